using System.Globalization;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// Vietnam's calendar (UTC+7, no daylight saving): the "today" that dates may not pass, and the one way dates
/// are read from a query string or a cursor (<c>YYYY-MM-DD</c>, a real calendar date).
/// </summary>
public static class VietnamCalendar
{
    static readonly TimeSpan Offset = TimeSpan.FromHours(7);

    /// <summary>The calendar date in Vietnam at <paramref name="instant"/>.</summary>
    public static DateOnly DateAt(DateTimeOffset instant) => DateOnly.FromDateTime(instant.ToOffset(Offset).DateTime);

    public static DateOnly Today(TimeProvider clock) => DateAt(clock.GetUtcNow());

    public static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    /// <summary>
    /// A date parameter: null when absent (or, with <paramref name="required"/>, an error); otherwise the date, or an
    /// error under <paramref name="field"/> in <paramref name="errors"/>.
    /// </summary>
    public static DateOnly? Parse(string? text, string field, IDictionary<string, string[]> errors, bool required = false)
    {
        if (string.IsNullOrEmpty(text))
        {
            if (required) errors[field] = [$"'{field}' is required (YYYY-MM-DD)."];
            return null;
        }
        if (TryParse(text, out var date)) return date;
        errors[field] = [$"'{field}' must be a real date written YYYY-MM-DD; '{text}' is not."];
        return null;
    }

    /// <summary>A period <c>from</c>–<c>to</c> (inclusive): each date as <see cref="Parse"/> reads it, and <c>to</c> not before <c>from</c>.</summary>
    public static (DateOnly? From, DateOnly? To) ParsePeriod(string? from, string? to, IDictionary<string, string[]> errors, bool required)
    {
        var fromDate = Parse(from, "from", errors, required);
        var toDate = Parse(to, "to", errors, required);
        if (fromDate > toDate) errors["to"] = ["'to' must not be before 'from'."];
        return (fromDate, toDate);
    }
}
