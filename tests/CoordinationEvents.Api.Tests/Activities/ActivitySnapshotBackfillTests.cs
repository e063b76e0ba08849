using System.Net;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>
/// An activity recorded before the write model was kept as a snapshot (an earlier version's database) cannot be
/// corrected until its snapshot exists; the backfill writes it, from the stream, and the correction then passes.
/// </summary>
public sealed class ActivitySnapshotBackfillTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task An_activity_without_its_snapshot_is_corrected_once_the_backfill_has_written_it()
    {
        using var reporter = api.Reporter;
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = "snapshot-backfill-1";
        var created = await reporter.PostJsonAsync("/api/v1/activities", node.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.JsonAsync()).GetProperty("activityId").GetGuid();
        node["details"]!["patrolParticipants"] = 9;
        Assert.Equal(HttpStatusCode.OK, (await reporter.PutJsonAsync($"/api/v1/activities/{id}", node.ToJsonString(), "\"1\"")).StatusCode);

        // As an earlier version left it: the events and the read model, no snapshot.
        Assert.Equal(1, await api.ScalarAsync($"select count(*) from mt_doc_activity where id = '{id}'"));
        await api.ScalarAsync($"with gone as (delete from mt_doc_activity where id = '{id}' returning 1) select count(*) from gone");
        node["details"]!["patrolParticipants"] = 11;
        Assert.Equal(HttpStatusCode.NotFound, (await reporter.PutJsonAsync($"/api/v1/activities/{id}", node.ToJsonString(), "\"2\"")).StatusCode);

        var backfill = new ActivitySnapshotBackfill(api.Services.GetRequiredService<IDocumentStore>(),
            api.Services.GetRequiredService<NpgsqlDataSource>(), NullLogger<ActivitySnapshotBackfill>.Instance);
        await backfill.StartAsync(CancellationToken.None);
        await backfill.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, await api.ScalarAsync("select count(*) from mt_doc_activityview v where not exists (select 1 from mt_doc_activity a where a.id = v.id)"));
        var corrected = await reporter.PutJsonAsync($"/api/v1/activities/{id}", node.ToJsonString(), "\"2\"");
        Assert.Equal(HttpStatusCode.OK, corrected.StatusCode);
        Assert.Equal(3, (await corrected.JsonAsync()).GetProperty("version").GetInt32());
    }
}
