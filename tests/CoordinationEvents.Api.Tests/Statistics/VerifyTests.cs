using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using System.Reflection;
using System.Reflection.Emit;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Admin;
using CoordinationEvents.Api.Tests.Infrastructure;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// <c>GET /api/v1/admin/verify</c> folds each stream on its own (streams with several events included) and
/// compares every cell and stock; a damaged cell or stock must show as a difference.
/// </summary>
public sealed class VerifyTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Verify_counts_corrected_and_retracted_streams_once_and_finds_damaged_cells_and_stocks()
    {
        using var reporter = api.Reporter;
        var ids = new List<Guid>();
        foreach (var (kind, i) in new[] { ("patrol", 0), ("self-management", 1), ("patrol", 2), ("self-management", 3) })
        {
            var node = JsonNode.Parse(ActivityExamples.ByKind[kind])!.AsObject();
            node["externalId"] = $"verify-{i}";
            var post = await reporter.PostJsonAsync("/api/v1/activities", node.ToJsonString());
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
            ids.Add((await post.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("activityId").GetGuid());
            if (i == 0)
            {
                node["summary"] = "corrected";
                Assert.Equal(HttpStatusCode.OK, (await reporter.PutJsonAsync($"/api/v1/activities/{ids[^1]}", node.ToJsonString(), "\"1\"")).StatusCode);
            }
        }
        using (var retract = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/activities/{ids[2]}"))
        {
            retract.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
            retract.Content = JsonContent.Create(new { reason = "posted twice" });
            Assert.Equal(HttpStatusCode.OK, (await reporter.SendAsync(retract)).StatusCode);
        }
        await api.WaitForProjectionsAsync();
        var clean = await api.AssertStatisticsConsistentAsync();
        Assert.True(clean.GetProperty("eventsChecked").GetInt64() >= 6);
        Assert.True(clean.GetProperty("stocksCompared").GetInt32() >= 2);

        await api.ScalarAsync($"with d as (update stat_cells set v0 = v0 + 1 where unit_id = (select unit_id from stat_cells limit 1) and period = 'm' returning 1) select count(*) from d");
        await api.ScalarAsync($"with d as (update stat_stocks set recorded_at = recorded_at + interval '1 microsecond' where activity_id = '{ids[1]}' returning 1) select count(*) from d");
        using var admin = api.Admin;
        var damaged = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/verify");
        Assert.True(damaged.GetProperty("differenceCount").GetInt32() >= 2, damaged.ToString());
        var tables = damaged.GetProperty("differences").EnumerateArray().Select(d => d.GetProperty("table").GetString()).ToHashSet();
        Assert.Contains("stat_cells", tables);
        Assert.Contains("stat_stocks", tables);

        // Put the figures back, as the next test in this class's database expects them.
        using var rebuild = await admin.PostAsync("/api/v1/admin/projections/statistics/rebuild", null);
        Assert.True(rebuild.IsSuccessStatusCode, await rebuild.Content.ReadAsStringAsync());
        await api.WaitForProjectionsAsync();
        await api.AssertStatisticsConsistentAsync();
    }

    [Fact]
    public async Task Verify_reads_for_as_long_as_the_data_takes_whatever_the_command_timeout()
    {
        // At 10M events the sorted read of every event runs past Npgsql's 30 s command timeout before its first
        // row. Here a lock holds that read back for longer than a 1 s timeout: the check must wait, then answer.
        await api.WaitForProjectionsAsync();
        await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(api.ConnectionString) { CommandTimeout = 1 }.ConnectionString);
        await using var blocker = new NpgsqlConnection(api.ConnectionString);
        await blocker.OpenAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        await using (var lockEvents = new NpgsqlCommand("lock table mt_events in access exclusive mode", blocker, tx)) await lockEvents.ExecuteNonQueryAsync();

        var check = VerifyFigures.RunAsync(db, CancellationToken.None);
        await Task.WhenAny(check, Task.Delay(TimeSpan.FromSeconds(2.5)));
        Assert.False(check.IsCompleted, check.IsFaulted ? check.Exception!.ToString() : "the check did not wait for the lock");
        await tx.RollbackAsync();

        var report = await check;
        Assert.Equal(0, report.DifferenceCount);
    }

    // ---- Independence: verify finds what the projection got wrong, and shares none of its code. ----

    [Fact]
    public async Task Verify_finds_exactly_the_cell_slot_changed_and_the_stock_row_deleted_behind_the_projection()
    {
        using var reporter = api.Reporter;
        var patrol = await PostAsync(reporter, "patrol", "exact-patrol", "2021-05-06");
        var stock = await PostAsync(reporter, "self-management", "exact-stock", "2021-05-07");
        await api.WaitForProjectionsAsync();
        await api.AssertStatisticsConsistentAsync();

        // What the projection should hold, worked out by hand from the two example bodies: a patrol's cell is
        // [activities, patrols, patrolParticipants, markersInspected, intrusionsDetected, distanceKm in metres, 0, 0];
        // a stock row [-, collectives, individuals, border km in metres, markers, 0, 0, 0].
        Assert.Equal(1, await api.ScalarAsync("""
            with d as (update stat_cells set v5 = v5 + 7
                       where unit_id = 'phong-tho' and period = 'd' and bucket = '2021-05-06' and kind = 'patrol' returning 1)
            select count(*) from d
            """));
        Assert.Equal(1, await api.ScalarAsync($"with d as (delete from stat_stocks where activity_id = '{stock}' returning 1) select count(*) from d"));

        var report = await VerifyAsync();
        Assert.True(report.DifferenceCount == 2, Describe(report));
        var cell = Assert.Single(report.Differences, d => d.Table == "stat_cells");
        Assert.Equal("unit=phong-tho day=2021-05-06 kind=patrol d1=joint d2=", cell.Key);
        Assert.Equal(new long[] { 1, 1, 8, 2, 2, 12_500, 0, 0 }, cell.Expected);
        Assert.Equal(new long[] { 1, 1, 8, 2, 2, 12_507, 0, 0 }, cell.Actual);
        var row = Assert.Single(report.Differences, d => d.Table == "stat_stocks");
        Assert.Equal($"activity {stock}", row.Key);
        Assert.Equal(new long[] { 0, 12, 85, 18_350, 6, 0, 0, 0 }, row.Expected);
        Assert.Null(row.Actual);
        Assert.NotEqual(Guid.Empty, patrol);

        await RebuildAsync();
    }

    [Fact]
    public async Task Verify_finds_every_cell_of_a_running_projection_whose_contribution_drops_a_metric()
    {
        // A bug in the projection, simulated in the database while the service runs: every patrol cell of 2020 that
        // the daemon writes loses its distance (slot 5), as a contribution that forgot the decimal metric would.
        await api.ScalarAsync("""
            create or replace function verify_test_drop_distance() returns trigger language plpgsql as $$
            begin
                if new.kind = 'patrol' and new.bucket between '2020-01-01' and '2020-12-31' then new.v5 := 0; end if;
                return new;
            end $$;
            create trigger verify_test_drop_distance before insert or update on stat_cells
                for each row execute function verify_test_drop_distance();
            select 1
            """);
        try
        {
            using var reporter = api.Reporter;
            await PostAsync(reporter, "patrol", "broken-1", "2020-03-02", distanceKm: 12.5m);
            await PostAsync(reporter, "patrol", "broken-2", "2020-03-09", distanceKm: 4.25m);
            var corrected = await PostAsync(reporter, "patrol", "broken-3", "2020-07-01", distanceKm: 7m);
            var retracted = await PostAsync(reporter, "patrol", "broken-4", "2020-08-15", distanceKm: 3m);
            var correction = Body("patrol", "broken-3", "2020-07-01", 9.125m);
            Assert.Equal(HttpStatusCode.OK, (await reporter.PutJsonAsync($"/api/v1/activities/{corrected}", correction, "\"1\"")).StatusCode);
            using (var retract = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/activities/{retracted}"))
            {
                retract.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
                retract.Content = JsonContent.Create(new { reason = "entered by mistake" });
                Assert.Equal(HttpStatusCode.OK, (await reporter.SendAsync(retract)).StatusCode);
            }
            await api.WaitForProjectionsAsync();

            // The patrols that count, in metres, per day, per month and in the year; each in its post, its district and its province.
            var days = new Dictionary<string, long> { ["day=2020-03-02"] = 12_500, ["day=2020-03-09"] = 4_250, ["day=2020-07-01"] = 9_125 };
            var months = new Dictionary<string, long> { ["month=2020-03-01"] = 16_750, ["month=2020-07-01"] = 9_125, ["year=2020-01-01"] = 25_875 };
            var wrong = (from unit in new[] { "don-ma-lu-thang", "phong-tho", "lai-chau" }
                         from bucket in days.Concat(months)
                         select (Key: $"unit={unit} {bucket.Key} kind=patrol d1=joint d2=", Metres: bucket.Value)).ToDictionary(c => c.Key, c => c.Metres);

            var report = await VerifyAsync();
            Assert.True(report.DifferenceCount == wrong.Count, Describe(report));
            foreach (var d in report.Differences)
            {
                Assert.Equal("stat_cells", d.Table);
                Assert.True(wrong.Remove(d.Key, out var metres), $"unexpected difference {d.Key}");
                Assert.NotNull(d.Expected);
                Assert.NotNull(d.Actual);
                Assert.Equal(metres, d.Expected[5]);
                Assert.Equal(0, d.Actual[5]);
                Assert.Equal(d.Expected.Where((_, i) => i != 5), d.Actual.Where((_, i) => i != 5));
            }
            Assert.Empty(wrong);
        }
        finally
        {
            await api.ScalarAsync("drop trigger if exists verify_test_drop_distance on stat_cells; select 1");
        }
        await RebuildAsync();
    }

    /// <summary>
    /// "Verify shares no code with the projection it checks" (style.md): no method of <see cref="VerifyFigures"/>, its
    /// closures and state machines included, touches the statistics' code, the core (the store's JSON reader, the unit tree),
    /// or the activity's fold. Of the activities it may use the kind catalog and the stored
    /// event type names only.
    /// </summary>
    [Fact]
    public void Verify_uses_nothing_of_the_projection_but_the_kind_catalog()
    {
        string[] allowedActivities =
            [nameof(KindCatalog), nameof(KindDefinition), nameof(MetricDefinition), nameof(MetricType), nameof(DimensionDefinition), nameof(ActivityEventTypes)];
        var used = ReferencedTypes(typeof(VerifyFigures)).Where(t => t.Assembly == typeof(VerifyFigures).Assembly).ToHashSet();
        Assert.Contains(typeof(KindCatalog), used); // the scan does see the service's own types,
        Assert.Contains(typeof(CoordinationEvents.Api.Statistics.StatisticsProjection), ReferencedTypes(typeof(CoordinationEvents.Api.Statistics.StatisticsRebuild))); // and the projection where it is used
        var forbidden = used.Where(t => t.Namespace is { } ns && (ns.StartsWith("CoordinationEvents.Api.Statistics", StringComparison.Ordinal)
                || (ns.StartsWith("CoordinationEvents.Api.Core", StringComparison.Ordinal) && t.Name != nameof(Policies))
                || ns.StartsWith("CoordinationEvents.Api.Units", StringComparison.Ordinal)
                || (ns == "CoordinationEvents.Api.Activities" && !allowedActivities.Contains(t.Name))))
            .Select(t => t.FullName).Order().ToArray();
        Assert.True(forbidden.Length == 0, "VerifyFigures uses " + string.Join(", ", forbidden));
    }

    static string Body(string kind, string externalId, string occurredOn, decimal? distanceKm = null)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind[kind])!.AsObject();
        node["externalId"] = externalId;
        node["occurredOn"] = occurredOn;
        if (distanceKm is { } km) node["details"]!["distanceKm"] = km;
        return node.ToJsonString();
    }

    static async Task<Guid> PostAsync(HttpClient reporter, string kind, string externalId, string occurredOn, decimal? distanceKm = null)
    {
        var post = await reporter.PostJsonAsync("/api/v1/activities", Body(kind, externalId, occurredOn, distanceKm));
        Assert.True(post.StatusCode == HttpStatusCode.Created, await post.Content.ReadAsStringAsync());
        return (await post.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("activityId").GetGuid();
    }

    async Task<ConsistencyReport> VerifyAsync()
    {
        using var admin = api.Admin;
        return (await admin.GetFromJsonAsync<ConsistencyReport>("/api/v1/admin/verify", ServiceInstance.Json))!;
    }

    static string Describe(ConsistencyReport report) => $"{report.DifferenceCount} differences: " + string.Join("; ",
        report.Differences.Select(d => $"{d.Table} {d.Key} expected [{string.Join(",", d.Expected ?? [])}] actual [{string.Join(",", d.Actual ?? [])}]"));

    /// <summary>Puts the figures back (a rebuild from the events), as the other tests of this class's database expect them.</summary>
    async Task RebuildAsync()
    {
        using var admin = api.Admin;
        using var rebuild = await admin.PostAsync("/api/v1/admin/projections/statistics/rebuild", null);
        Assert.True(rebuild.IsSuccessStatusCode, await rebuild.Content.ReadAsStringAsync());
        await api.WaitForProjectionsAsync();
        await api.AssertStatisticsConsistentAsync();
    }

    static readonly Dictionary<ushort, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => (ushort)o.Value);

    /// <summary>Every type that a type's fields, locals and IL name (its nested types' too, where the compiler puts lambdas and async code).</summary>
    internal static IEnumerable<Type> ReferencedTypes(Type root)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var found = new HashSet<Type>();
        void Note(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Note(t.GetElementType()); return; } // arrays, pointers, by-refs: what they hold
            if (!found.Add(t)) return;
            if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) Note(a);
        }
        var types = new List<Type> { root };
        for (var i = 0; i < types.Count; i++) types.AddRange(types[i].GetNestedTypes(all));
        foreach (var type in types)
        {
            foreach (var f in type.GetFields(all)) Note(f.FieldType);
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (method is MethodInfo mi) Note(mi.ReturnType);
                foreach (var p in method.GetParameters()) Note(p.ParameterType);
                var body = method.GetMethodBody();
                if (body is null) continue;
                foreach (var local in body.LocalVariables) Note(local.LocalType);
                var il = body.GetILAsByteArray()!;
                for (var at = 0; at < il.Length;)
                {
                    var op = il[at] == 0xFE ? OpCodesByValue[(ushort)(0xFE00 | il[at + 1])] : OpCodesByValue[il[at]];
                    at += op.Size;
                    switch (op.OperandType)
                    {
                        case OperandType.InlineNone: break;
                        case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: at += 1; break;
                        case OperandType.InlineVar: at += 2; break;
                        case OperandType.InlineI8 or OperandType.InlineR: at += 8; break;
                        case OperandType.InlineSwitch: at += 4 + 4 * BitConverter.ToInt32(il, at); break;
                        case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok:
                            var member = method.Module.ResolveMember(BitConverter.ToInt32(il, at),
                                type.IsGenericType ? type.GetGenericArguments() : null, method.IsGenericMethod ? method.GetGenericArguments() : null);
                            switch (member)
                            {
                                case Type t: Note(t); break;
                                case FieldInfo f: Note(f.DeclaringType); Note(f.FieldType); break;
                                case MethodInfo m:
                                    Note(m.DeclaringType); Note(m.ReturnType);
                                    if (m.IsGenericMethod) foreach (var a in m.GetGenericArguments()) Note(a);
                                    break;
                                case ConstructorInfo c: Note(c.DeclaringType); break;
                            }
                            at += 4;
                            break;
                        default: at += 4; break; // InlineI, InlineBrTarget, InlineString, InlineSig, ShortInlineR
                    }
                }
            }
        }
        return found;
    }
}
