using Npgsql;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// The figures that a change of the organisation moves, and whether they have been moved: one row per change
/// (<c>change_id</c>: <c>reorganisation:{id}</c>, or a single unit's change), written by the Statistics feature when
/// it takes the change's durable message, and marked done when its restatement commits. The Units feature reads
/// it to answer whether a reorganisation is <c>applied</c>.
/// </summary>
public static class OrganisationRestates
{
    public const string TableName = "organisation_restates";

    public static Table Table()
    {
        var t = new Table(TableName);
        t.AddColumn("change_id", "text").AsPrimaryKey();
        t.AddColumn("from_day", "date");                 // null: from the beginning
        t.AddColumn("unit_ids", "text[]").NotNull();     // the units the change touched
        t.AddColumn("requested_at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        t.AddColumn("done_at", "timestamptz");
        return t;
    }

    public static string ChangeIdOfReorganisation(string reorganisationId) => "reorganisation:" + reorganisationId;

    /// <summary>The ids among <paramref name="changeIds"/> whose figures have all been moved.</summary>
    public static async Task<HashSet<string>> DoneAsync(NpgsqlDataSource db, IReadOnlyCollection<string> changeIds, CancellationToken ct)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        if (changeIds.Count == 0) return done;
        await using var cmd = db.CreateCommand($"select change_id from {TableName} where change_id = any($1) and done_at is not null");
        cmd.Parameters.AddWithValue(changeIds.ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) done.Add(reader.GetString(0));
        return done;
    }
}
