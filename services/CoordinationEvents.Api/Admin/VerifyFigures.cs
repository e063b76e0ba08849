using System.Globalization;
using System.Text.Json;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Admin;

/// <param name="Key">The cell (<c>unit=… day|month=… kind=… d1=… d2=…</c>) or the stock row (<c>activity …</c>).</param>
/// <param name="Expected">The slots a fold of the events gives (v0..v7; v0 is 0 for a stock row); null: no such row expected.</param>
/// <param name="Actual">The slots in the table; null: the row is missing.</param>
public sealed record Difference(string Table, string Key, long[]? Expected, long[]? Actual);

/// <param name="Position">The projection's position: the events up to it were folded.</param>
/// <param name="DifferenceCount">Every difference; <paramref name="Differences"/> lists the first 100.</param>
public sealed record ConsistencyReport(
    string Projection,
    string Position,
    long EventsChecked,
    int ActiveActivities,
    int CellsCompared,
    int StocksCompared,
    int DifferenceCount,
    IReadOnlyList<Difference> Differences);

/// <summary>
/// <c>GET /api/v1/admin/verify</c>: the statistics recomputed from the raw events and compared with the statistics
/// projection's tables, at the projection's own position, in one snapshot.
/// <para>
/// The recomputation is on its own: it reads the events as JSON (not through the event records or the activity's
/// fold), the unit events as JSON too (each unit's record of its events, not the unit history or tree:
/// <see cref="Organisation"/> folds them here), and adds up with code written here, so a bug in the projection's contribution, its slot layout or its
/// ancestry over time shows as a difference instead of being repeated.
/// The one thing it shares with the projection is the kind catalog: which metrics a kind has and in which order,
/// which are stocks and decimals, and which dimensions. What the tables hold is their published schema, written out
/// below on purpose rather than taken from the projection's code.
/// </para>
/// </summary>
public static class VerifyFigures
{
    [WolverineGet("/api/v1/admin/verify", Name = "Verify"), Authorize(Policy = Policies.Admin), Tags("Admin")]
    [EnableRateLimiting(ExpensiveReads.Policy)]
    [EndpointSummary("Recomputes the statistics from the raw events and compares them with the projection at its position. Zero differences expected.")]
    public static async Task<Ok<ConsistencyReport>> Verify(NpgsqlDataSource db, CancellationToken ct) =>
        TypedResults.Ok(await RunAsync(db, ct));

    // ---- The statistics tables as the projection publishes them (its schema, not its code). ----

    const string ProjectionName = "statistics";
    /// <summary>The projection's row in Marten's <c>mt_event_progression</c>: its one shard.</summary>
    const string Shard = ProjectionName + ":All";
    const string CellsTable = "stat_cells";
    const string StocksTable = "stat_stocks";
    /// <summary>v0 counts activities; v1.. hold the kind's metrics in catalog order.</summary>
    static readonly int Slots = 1 + KindCatalog.All.Max(k => k.Metrics.Count);
    /// <summary>Decimal metrics are kept in thousandths (at most 3 decimal places).</summary>
    const decimal Thousandths = 1_000m;

    const int MaxListed = 100;

    /// <summary>A cell: a unit's whole subtree, a day ('d') or a month ('m', its first day), a kind and its two dimension values.</summary>
    readonly record struct Cell(string Unit, char Period, DateOnly Bucket, string Kind, string D1, string D2);

    /// <summary>A stock row: a self-management declaration, by activity.</summary>
    sealed record Stock(string Unit, DateOnly On, DateTimeOffset RecordedAt, long[] Values);

    /// <summary>What an activity says, as its latest recorded or corrected event gives it.</summary>
    sealed record Content(KindDefinition Kind, string Unit, DateOnly On, string D1, string D2, long[] Values);

    /// <summary>
    /// At most this many expected cells are held at once (about 150 bytes each: well inside the service's heap limit).
    /// Past it the cells are compared in parts, a few units each: the activities are folded once and kept in a
    /// temporary file, then each part adds up the cells of its units from it and reads only those units' rows (by the
    /// key's leading unit_id). At 10M activities the 11.5M cells held at once took more than the 640 MiB heap.
    /// </summary>
    public const int MaxCellsPerPart = 1_500_000;

    public static async Task<ConsistencyReport> RunAsync(NpgsqlDataSource db, CancellationToken ct, int maxCellsPerPart = MaxCellsPerPart)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);

        long position;
        await using (var cmd = new NpgsqlCommand("select coalesce((select last_seq_id from mt_event_progression where name = $1), 0)", connection))
        {
            cmd.Parameters.AddWithValue(Shard);
            position = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        var organisation = await Organisation.ReadAsync(connection, ct);
        var strings = new Dictionary<string, string>(StringComparer.Ordinal); // one copy of each unit id and dimension value
        var parts = await PartsAsync(connection, maxCellsPerPart, ct);
        using var spill = parts.Count > 1 ? new Spill() : null;

        // The long reads take as long as the data does (at 10M events the sorted read of mt_events ran past 30 s
        // before its first row), so they have no command timeout (Npgsql's 30 s default once ended a verify at 10M
        // in a 500 in make bench). The request's cancellation still stops them.
        NpgsqlCommand LongRead(string sql) => new(sql, connection) { CommandTimeout = 0 };

        // The events come in stream order, so one activity is folded, added up and let go before the next: memory
        // holds the expected cells and stocks, never every activity (10M activities would be gigabytes).
        var expectedCells = new Dictionary<Cell, long[]>();
        var expectedStocks = new Dictionary<Guid, Stock>();
        var active = 0;
        long eventsChecked = 0;
        Guid stream = default;
        Content? latest = null;
        var retracted = false;
        DateTimeOffset? firstRecordedAt = null;

        var flows = new long[Slots];
        // The cells of one activity's content, of the holders in `part` (null: all; see PartsAsync).
        void AddCells(Content content, Part? part)
        {
            var month = new DateOnly(content.On.Year, content.On.Month, 1);
            flows[0] = 1;
            if (content.Kind.IsStock) Array.Clear(flows, 1, Slots - 1);
            else Array.Copy(content.Values, 1, flows, 1, Slots - 1);
            // An activity counts in the cells of its unit and of the ancestors its unit had on its day (organisation.md, "as it was").
            foreach (var unit in organisation.Holders(content.Unit, content.On))
            {
                if (part is not null && !part.Holds(unit)) continue;
                Add(new Cell(unit, 'd', content.On, content.Kind.Name, content.D1, content.D2), flows);
                Add(new Cell(unit, 'm', month, content.Kind.Name, content.D1, content.D2), flows);
                Add(new Cell(unit, 'y', new DateOnly(content.On.Year, 1, 1), content.Kind.Name, content.D1, content.D2), flows);
            }
        }
        void AddUp()
        {
            if (latest is null || retracted) return;
            active++;
            if (spill is null) AddCells(latest, null);
            else spill.Write(latest);
            // A stock is its latest declaration, dated by the activity's day and ordered within it by when it was first recorded.
            if (latest.Kind.IsStock)
                expectedStocks[stream] = new Stock(latest.Unit, latest.On,
                    Microseconds(firstRecordedAt ?? throw new InvalidOperationException($"Activity {stream} has no activity-recorded event.")), latest.Values);
        }
        void Add(Cell cell, long[] values)
        {
            if (!expectedCells.TryGetValue(cell, out var sum)) expectedCells[cell] = sum = new long[Slots];
            for (var i = 0; i < Slots; i++) sum[i] += values[i];
        }

        await using (var cmd = LongRead("""
            select stream_id, type, data from mt_events
            where seq_id <= $1 and type = any($2)
            order by stream_id, version
            """))
        {
            cmd.Parameters.AddWithValue(position);
            // Activity events only: not the tombstones with which Marten fills the numbers of a rolled-back append.
            cmd.Parameters.AddWithValue(new[] { ActivityEventTypes.Recorded, ActivityEventTypes.Corrected, ActivityEventTypes.Retracted });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var streamId = reader.GetGuid(0);
                if (eventsChecked == 0 || streamId != stream)
                {
                    AddUp();
                    (stream, latest, retracted, firstRecordedAt) = (streamId, null, false, null);
                }
                var type = reader.GetString(1);
                using var json = JsonDocument.Parse(reader.GetString(2));
                var data = json.RootElement;
                switch (type)
                {
                    case ActivityEventTypes.Recorded:
                        firstRecordedAt ??= Property(data, "recordedAt", stream).GetDateTimeOffset();
                        latest = Read(Property(data, "content", stream), stream, strings);
                        break;
                    case ActivityEventTypes.Corrected:
                        latest = Read(Property(data, "content", stream), stream, strings);
                        break;
                    case ActivityEventTypes.Retracted:
                        retracted = true; // from every figure, for good: nothing corrects a retracted activity
                        break;
                }
                eventsChecked++;
            }
            AddUp();
        }

        var differences = new List<Difference>();
        var count = 0;
        void Report(Difference d) { count++; if (differences.Count < MaxListed) differences.Add(d); }

        // Each row of the tables is matched with (and taken out of) what is expected; what is left was never written.
        // In parts (see MaxCellsPerPart): each adds up its units' cells from the folded activities and reads their rows.
        var cellsCompared = 0;
        foreach (var part in parts)
        {
            if (spill is not null)
            {
                expectedCells.Clear();
                foreach (var content in spill.Read()) AddCells(content, part);
            }
            cellsCompared += expectedCells.Count;
            var where = part is null ? "" : part.Last ? " where not (unit_id = any($1))" : " where unit_id = any($1)";
            await using (var cmd = LongRead($"select unit_id, period, bucket, kind, d1, d2, {Columns(0)} from {CellsTable}{where}"))
            {
                if (part is not null) cmd.Parameters.AddWithValue(part.Units);
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var cell = new Cell(reader.GetString(0), reader.GetChar(1), reader.GetFieldValue<DateOnly>(2), reader.GetString(3), reader.GetString(4), reader.GetString(5));
                    var actual = new long[Slots];
                    for (var i = 0; i < Slots; i++) actual[i] = reader.GetInt64(6 + i);
                    if (!expectedCells.Remove(cell, out var expected) || !expected.AsSpan().SequenceEqual(actual))
                        Report(new Difference(CellsTable, Describe(cell), expected, actual));
                }
            }
            foreach (var (cell, expected) in expectedCells)
                Report(new Difference(CellsTable, Describe(cell), expected, null));
        }

        var stocksCompared = expectedStocks.Count;
        await using (var cmd = LongRead($"select activity_id, unit_id, occurred_on, recorded_at, {Columns(1)} from {StocksTable}"))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                var actual = new Stock(reader.GetString(1), reader.GetFieldValue<DateOnly>(2), reader.GetFieldValue<DateTimeOffset>(3), new long[Slots]);
                for (var i = 1; i < Slots; i++) actual.Values[i] = reader.GetInt64(3 + i);
                expectedStocks.Remove(id, out var expected);
                var unlike = Unlike(expected, actual);
                if (unlike is not null) Report(new Difference(StocksTable, $"activity {id}{unlike}", expected?.Values, actual.Values));
            }
        foreach (var (id, expected) in expectedStocks)
            Report(new Difference(StocksTable, $"activity {id}", expected.Values, null));

        return new ConsistencyReport(ProjectionName, position.ToString(CultureInfo.InvariantCulture), eventsChecked, active,
            cellsCompared, stocksCompared, count, differences);
    }

    /// <summary>
    /// A part of the cells compared at once: the cells of <see cref="Units"/>, or, for the <see cref="Last"/> part, of
    /// every unit not in them (the earlier parts' units): so every row of the table, and every holder, is in one part.
    /// </summary>
    sealed class Part(string[] units, bool last)
    {
        readonly HashSet<string> set = new(units, StringComparer.Ordinal);
        public string[] Units { get; } = units;
        public bool Last { get; } = last;
        public bool Holds(string unit) => set.Contains(unit) != Last;
    }

    /// <summary>
    /// The parts the cells are compared in: one (null: every unit at once) when the table holds at most
    /// <paramref name="max"/> rows (the planner's estimate first, then a count); otherwise units in their order, as many
    /// to a part as keep it within <paramref name="max"/> rows (a unit with more is a part of its own), and a last part
    /// of the units not named.
    /// </summary>
    static async Task<List<Part?>> PartsAsync(NpgsqlConnection connection, int max, CancellationToken ct)
    {
        await using (var estimate = new NpgsqlCommand($"select coalesce((select reltuples::bigint from pg_class where relname = '{CellsTable}'), 0)", connection))
            if ((long)(await estimate.ExecuteScalarAsync(ct))! is >= 0 and var rows && rows < max / 2) return [null];
        var counts = new List<(string Unit, long Cells)>();
        await using (var cmd = new NpgsqlCommand($"select unit_id, count(*) from {CellsTable} group by unit_id order by unit_id", connection) { CommandTimeout = 0 })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) counts.Add((reader.GetString(0), reader.GetInt64(1)));
        if (counts.Sum(c => c.Cells) <= max) return [null];
        var parts = new List<Part?>();
        var (units, cells) = (new List<string>(), 0L);
        foreach (var (unit, count) in counts)
        {
            if (units.Count > 0 && cells + count > max)
            {
                parts.Add(new Part(units.ToArray(), false));
                (units, cells) = ([], 0);
            }
            units.Add(unit);
            cells += count;
        }
        // The last part: the last units counted, and every unit the table has no row of.
        parts.Add(new Part(parts.SelectMany(p => p!.Units).ToArray(), true));
        return parts;
    }

    /// <summary>
    /// The folded activities kept for the parts: one fixed-size record each (its unit, day, kind, dimension values and
    /// metric slots; strings as numbers) in a temporary file that is deleted when it is closed.
    /// </summary>
    sealed class Spill : IDisposable
    {
        readonly FileStream file = new(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
        readonly Dictionary<string, int> numbers = new(StringComparer.Ordinal);
        readonly List<string> texts = [];
        readonly BinaryWriter writer;

        public Spill() => writer = new BinaryWriter(file, System.Text.Encoding.UTF8, leaveOpen: true);

        int Number(string text)
        {
            if (!numbers.TryGetValue(text, out var n)) { numbers[text] = n = texts.Count; texts.Add(text); }
            return n;
        }

        public void Write(Content content)
        {
            writer.Write(Number(content.Unit));
            writer.Write(content.On.DayNumber);
            writer.Write(Number(content.Kind.Name));
            writer.Write(Number(content.D1));
            writer.Write(Number(content.D2));
            for (var i = 1; i < Slots; i++) writer.Write(content.Values[i]);
        }

        public IEnumerable<Content> Read()
        {
            writer.Flush();
            file.Position = 0;
            var length = file.Length;
            using var reader = new BinaryReader(file, System.Text.Encoding.UTF8, leaveOpen: true);
            var values = new long[Slots];
            while (file.Position < length)
            {
                var (unit, day, kind, d1, d2) = (texts[reader.ReadInt32()], DateOnly.FromDayNumber(reader.ReadInt32()), texts[reader.ReadInt32()], texts[reader.ReadInt32()], texts[reader.ReadInt32()]);
                for (var i = 1; i < Slots; i++) values[i] = reader.ReadInt64();
                yield return new Content(KindCatalog.Get(kind), unit, day, d1, d2, values);
            }
            file.Position = length;
        }

        public void Dispose()
        {
            writer.Dispose();
            file.Dispose();
        }
    }

    /// <summary>The figures of an event's <c>content</c>: slot 0 unused (1 per activity in cells), then the kind's metrics.</summary>
    static Content Read(JsonElement content, Guid stream, Dictionary<string, string> strings)
    {
        var kindName = Property(content, "kind", stream).GetString();
        if (!KindCatalog.TryGet(kindName, out var kind))
            throw new InvalidOperationException($"An event of activity {stream} has the unknown kind '{kindName}'.");
        var unit = Intern(strings, Property(content, "unitId", stream).GetString() ?? "");
        var on = DateOnly.ParseExact(Property(content, "occurredOn", stream).GetString() ?? "", "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var details = content.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;

        string Dimension(int index)
        {
            if (kind.Dimensions.Count <= index || details.ValueKind != JsonValueKind.Object
                || !details.TryGetProperty(kind.Dimensions[index].Name, out var value) || value.ValueKind != JsonValueKind.String)
                return "";
            return Intern(strings, value.GetString()!);
        }

        var values = new long[Slots];
        for (var i = 0; i < kind.Metrics.Count; i++)
        {
            var metric = kind.Metrics[i];
            // A metric the record left out counts 0.
            if (details.ValueKind != JsonValueKind.Object || !details.TryGetProperty(metric.Name, out var value)
                || value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var number))
                continue;
            var scaled = metric.Type == MetricType.Decimal ? number * Thousandths : number;
            values[i + 1] = (long)decimal.Round(scaled, MidpointRounding.AwayFromZero);
        }
        return new Content(kind, unit, on, Dimension(0), Dimension(1), values);
    }

    static JsonElement Property(JsonElement json, string name, Guid stream) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new InvalidOperationException($"An event of activity {stream} has no '{name}'.");

    static string Intern(Dictionary<string, string> strings, string s)
    {
        if (strings.TryGetValue(s, out var own)) return own;
        strings[s] = s;
        return s;
    }

    /// <summary>
    /// A time as the stock table keeps it: PostgreSQL holds microseconds, and the event's JSON .NET's 100 ns ticks;
    /// the extra digit is cut, never rounded.
    /// </summary>
    static DateTimeOffset Microseconds(DateTimeOffset time) => new(time.UtcTicks - time.UtcTicks % 10, TimeSpan.Zero);

    /// <summary>Null when the row holds what the fold expects; otherwise what differs beyond the values, for the key.</summary>
    static string? Unlike(Stock? expected, Stock actual)
    {
        if (expected is null) return "";
        var unlike = new List<string>();
        if (expected.Unit != actual.Unit) unlike.Add($"unit expected {expected.Unit}, actual {actual.Unit}");
        if (expected.On != actual.On) unlike.Add($"occurred_on expected {expected.On:yyyy-MM-dd}, actual {actual.On:yyyy-MM-dd}");
        // The recorded time orders two declarations of one day.
        if (expected.RecordedAt != actual.RecordedAt) unlike.Add($"recorded_at expected {expected.RecordedAt:O}, actual {actual.RecordedAt:O}");
        if (unlike.Count > 0) return " (" + string.Join("; ", unlike) + ")";
        return expected.Values.AsSpan().SequenceEqual(actual.Values) ? null : "";
    }

    static string Columns(int from) => string.Join(", ", Enumerable.Range(from, Slots - from).Select(i => $"v{i}"));

    static string Describe(Cell c) => string.Create(CultureInfo.InvariantCulture,
        $"unit={c.Unit} {c.Period switch { 'd' => "day", 'm' => "month", _ => "year" }}={c.Bucket:yyyy-MM-dd} kind={c.Kind} d1={c.D1} d2={c.D2}");

    /// <summary>
    /// The organisation over time, folded here from the unit events' JSON (<c>established</c>, <c>moved</c>, <c>merged</c>,
    /// <c>split</c>, <c>dissolved</c>; names and types do not place an activity), written apart from
    /// the unit history on purpose. A change with an <c>effectiveFrom</c> holds from that day until a later dated one;
    /// one without holds from the unit's beginning and replaces the earlier values of what it changes.
    /// </summary>
    sealed class Organisation
    {
        sealed class Life(string id)
        {
            public string Id { get; } = id;
            public DateOnly? From;
            /// <summary>The first day it no longer exists.</summary>
            public DateOnly? Until;
            public string? Ending;
            public string[] Successors = [];
            /// <summary>The parent from each day on (DateOnly.MinValue: from the beginning).</summary>
            public readonly SortedDictionary<DateOnly, string?> Parents = new();

            public bool On(DateOnly day) => (From is not { } f || day >= f) && (Until is not { } u || day < u);

            public string? ParentOn(DateOnly day)
            {
                string? parent = null;
                foreach (var (from, p) in Parents)
                {
                    if (from > day) break;
                    parent = p;
                }
                return parent;
            }
        }

        readonly Dictionary<string, Life> lives = new(StringComparer.Ordinal);
        DateOnly[] bounds = [];
        readonly Dictionary<(string Unit, int Span), string[]> chains = new();

        public static async Task<Organisation> ReadAsync(NpgsqlConnection connection, CancellationToken ct)
        {
            var organisation = new Organisation();
            // Each unit's events as the store keeps them beside its stream (mt_doc_unitrecord: its changes in order, each
            // named by "change"), read as raw JSON: one small row per unit, where mt_events would be a scan of every event.
            // No command timeout, as the other reads: it waits for locks as long as they are held.
            await using (var cmd = new NpgsqlCommand("select data from mt_doc_unitrecord", connection) { CommandTimeout = 0 })
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                {
                    using var json = JsonDocument.Parse(reader.GetString(0));
                    if (!json.RootElement.TryGetProperty("changes", out var changes) || changes.ValueKind != JsonValueKind.Array) continue;
                    foreach (var change in changes.EnumerateArray())
                        organisation.Apply("unit-" + Text(change, "change"), change);
                }
            organisation.bounds = organisation.lives.Values
                .SelectMany(l => l.Parents.Keys.Concat(l.From is { } f ? [f] : []).Concat(l.Until is { } u ? [u] : []))
                .Where(d => d != DateOnly.MinValue).Distinct().Order().ToArray();
            return organisation;
        }

        void Apply(string type, JsonElement data)
        {
            var unit = Text(data, "unitId") ?? throw new InvalidOperationException($"A {type} event has no 'unitId'.");
            if (!lives.TryGetValue(unit, out var life)) lives[unit] = life = new Life(unit);
            DateOnly? from = Text(data, "effectiveFrom") is { } d ? DateOnly.ParseExact(d, "yyyy-MM-dd", CultureInfo.InvariantCulture) : null;
            switch (type)
            {
                case "unit-established":
                    life.From = from;
                    life.Parents.Clear();
                    life.Parents[DateOnly.MinValue] = Text(data, "parentId");
                    break;
                case "unit-moved":
                    if (from is null) life.Parents.Clear();
                    life.Parents[from ?? DateOnly.MinValue] = Text(data, "parentId");
                    break;
                case "unit-merged":
                    (life.Until, life.Ending, life.Successors) = (from, "merged", Text(data, "into") is { } into ? [into] : []);
                    break;
                case "unit-split":
                    (life.Until, life.Ending) = (from, "split");
                    life.Successors = data.TryGetProperty("into", out var parts) && parts.ValueKind == JsonValueKind.Array
                        ? parts.EnumerateArray().Select(p => p.GetString() ?? "").ToArray() : [];
                    break;
                case "unit-dissolved":
                    (life.Until, life.Ending, life.Successors) = (from, "dissolved", []);
                    break;
                // unit-renamed, unit-retyped: a name or a type places no activity.
            }
        }

        static string? Text(JsonElement data, string name) =>
            data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        /// <summary>
        /// The units an activity of <paramref name="unit"/> on <paramref name="day"/> counts for: the unit that held it
        /// (itself; its successor if it had already merged by then, following merges; itself if it was split or
        /// dissolved, as on its last day), then that unit's parent on that day, and so on up while they exist. A unit
        /// without events: itself alone.
        /// </summary>
        public string[] Holders(string unit, DateOnly day)
        {
            int lo = 0, hi = bounds.Length; // the span of days between two changes that holds the day
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (bounds[mid] <= day) lo = mid + 1;
                else hi = mid;
            }
            if (chains.TryGetValue((unit, lo), out var chain)) return chain;
            return chains[(unit, lo)] = Chain(unit, day);
        }

        string[] Chain(string unit, DateOnly day)
        {
            if (!lives.TryGetValue(unit, out var holder)) return [unit];
            for (var hops = 0; hops < 64 && holder.Until is { } u && day >= u && holder.Ending == "merged" && holder.Successors.Length == 1
                 && lives.TryGetValue(holder.Successors[0], out var next); hops++)
                holder = next;
            var on = holder.Until is { } until && day >= until ? until.AddDays(-1)
                : holder.From is { } from && day < from ? from : day;
            var chain = new List<string> { holder.Id };
            for (var parent = holder.ParentOn(on); parent is not null && lives.TryGetValue(parent, out var above) && above.On(on); parent = above.ParentOn(on))
            {
                if (chain.Contains(parent)) throw new InvalidOperationException($"The units above '{unit}' form a cycle on {on:yyyy-MM-dd}.");
                chain.Add(parent);
            }
            return chain.ToArray();
        }
    }
}
