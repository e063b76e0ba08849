using CoordinationEvents.Api.Activities;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Api.Reports;

/// <summary>
/// The figures a review report is written from: the rows of one statistics query for the unit and period,
/// grouped by <see cref="GroupBy"/> (kind and every dimension). A row's key holds null for a dimension its
/// kind does not have; stocks (<c>selfManaged*</c>) in the rows are already the stock at the period's end.
/// </summary>
public sealed class ReviewFigures
{
    /// <summary>The <c>groupBy</c> of the statistics query whose rows this class reads.</summary>
    public static readonly IReadOnlyList<string> GroupBy = ["kind", .. KindCatalog.DimensionNames];

    public static ReviewFigures Empty { get; } = new([]);

    public ReviewFigures(IEnumerable<StatisticsRow> rows) => Rows = rows.ToArray();

    public static ReviewFigures From(StatisticsResponse response) => new(response.Rows);

    public IReadOnlyList<StatisticsRow> Rows { get; }

    /// <summary>
    /// The sum of <paramref name="metric"/> over the rows whose key matches every (dimension, value) of
    /// <paramref name="filter"/>; "kind" may be filtered like a dimension. Metrics missing from a row count 0.
    /// </summary>
    public decimal Sum(string metric, params (string Dimension, string Value)[] filter)
    {
        var sum = 0m;
        foreach (var row in Rows)
        {
            if (Matches(row, filter) && row.Metrics.TryGetValue(metric, out var value))
            {
                sum += value;
            }
        }
        return sum;
    }

    static bool Matches(StatisticsRow row, (string Dimension, string Value)[] filter)
    {
        foreach (var (dimension, value) in filter)
        {
            if (!row.Key.TryGetValue(dimension, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}
