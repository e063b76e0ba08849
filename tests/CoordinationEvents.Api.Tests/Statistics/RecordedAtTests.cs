using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Testing;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// A stock's recorded time is written by the projection (from .NET) and by the rebuild's fill (from the event's
/// JSON text); verify compares them exactly. Both must cut .NET's 100 ns ticks to the same microsecond.
/// </summary>
public sealed class RecordedAtTests
{
    [Fact]
    public async Task The_fill_reads_a_recorded_time_from_json_to_the_microsecond_the_projection_writes()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("recordedat");
        await using var db = ServiceSetup.CreateDataSource(connectionString);
        var random = new Random(7);
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        // Every last tick digit, 5 above all (PostgreSQL's own cast rounds those through a double, either way).
        var times = Enumerable.Range(0, 2_000)
            .Select(i => new DateTimeOffset(start + random.NextInt64(0, TimeSpan.TicksPerDay * 365) / 10 * 10 + (i % 2 == 0 ? 5 : i % 10), TimeSpan.Zero))
            .ToArray();
        var texts = times.Select(t => JsonSerializer.Deserialize<string>(JsonSerializer.Serialize(t))!).ToArray();
        Assert.Contains(texts, t => t.Contains(".") && t.Split('.')[1].Split('+')[0].Length == 7);

        await using var command = db.CreateCommand($"select {StatisticsProjection.RecordedAtSql("t")} from unnest($1::text[]) with ordinality as x(t, n) order by n");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = texts });
        var stored = new List<DateTimeOffset>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) stored.Add(reader.GetFieldValue<DateTimeOffset>(0));

        Assert.Equal(times.Select(StatisticsProjection.ToMicroseconds), stored);
        // And Npgsql, writing the projection's value, stores that same microsecond.
        await using var roundTrip = db.CreateCommand("select $1::timestamptz");
        roundTrip.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = StatisticsProjection.ToMicroseconds(times[0]) });
        await using var back = await roundTrip.ExecuteReaderAsync();
        Assert.True(await back.ReadAsync());
        Assert.Equal(StatisticsProjection.ToMicroseconds(times[0]), back.GetFieldValue<DateTimeOffset>(0));
    }
}
