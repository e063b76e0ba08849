using System.Text;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

/// <summary>One statement's share of a run, from pg_stat_statements (track = all: statements inside functions too).</summary>
public sealed record StatementCost(string Query, long Calls, double TotalMs, long Rows, bool TopLevel);

/// <summary>
/// Where PostgreSQL's time goes in one run: pg_stat_statements of the service's database, reset before the run
/// and read after it. The bench's own server loads the extension (deploy/bench-postgres.sh); an external
/// server without it gives no profile and the run goes on.
/// </summary>
public sealed class StatementProfile(NpgsqlDataSource database)
{
    bool available = true;

    public async Task ResetAsync()
    {
        if (!available) return;
        try
        {
            await using var command = database.CreateCommand(
                "create extension if not exists pg_stat_statements; select pg_stat_statements_reset()");
            await command.ExecuteNonQueryAsync();
        }
        catch (PostgresException e)
        {
            available = false;
            Log.Line($"pg_stat_statements is not available ({e.MessageText}): no statement profile");
        }
    }

    /// <summary>The statements of this database by total execution time, most first.</summary>
    public async Task<IReadOnlyList<StatementCost>> ReadAsync(int top = 12)
    {
        if (!available) return [];
        await using var command = database.CreateCommand(
            """
            select query, calls, total_exec_time, rows, toplevel
            from pg_stat_statements
            where dbid = (select oid from pg_database where datname = current_database())
              and query not like '%pg_stat_statements%'
            order by total_exec_time desc
            limit $1
            """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = top });
        var costs = new List<StatementCost>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            costs.Add(new StatementCost(reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetInt64(3), reader.GetBoolean(4)));
        return costs;
    }

    /// <summary>A Markdown table of the costs per item (an activity, an event).</summary>
    public static string Table(string run, IReadOnlyList<StatementCost> costs, double items, string item)
    {
        if (costs.Count == 0 || items <= 0) return "";
        var text = new StringBuilder()
            .AppendLine($"PostgreSQL's statements during {run} (pg_stat_statements, track = all, so a function's inner statements are counted inside it too; {Format.Number(items)} {Plural(item)}):")
            .AppendLine()
            .AppendLine($"| statement | level | calls per {item} | rows per call | exec ms per {item} | ms per call |")
            .AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var c in costs)
            text.AppendLine($"| `{Shorten(c.Query)}` | {(c.TopLevel ? "top" : "nested")} | {Format.Number(c.Calls / items)} | {Format.Number(c.Calls == 0 ? 0 : (double)c.Rows / c.Calls)} | {c.TotalMs / items:0.000} | {(c.Calls == 0 ? 0 : c.TotalMs / c.Calls):0.000} |");
        return text.ToString();
    }

    static string Plural(string item) => item.EndsWith('y') ? item[..^1] + "ies" : item + "s";

    static string Shorten(string query)
    {
        var flat = string.Join(' ', query.Split((char[])['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries)).Replace("|", "\\|").Replace("`", "'");
        return flat.Length <= 110 ? flat : flat[..107] + "...";
    }
}
