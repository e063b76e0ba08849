using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Operations;

/// <summary>
/// An append held open: a transaction that took an event sequence number through Marten, as the service does, and
/// has not committed. The daemon's high water mark stops below it, so the projection lags behind every event
/// committed after it, until <see cref="DisposeAsync"/> rolls it back (then the stale threshold, 1 s, lets it pass).
/// </summary>
public sealed class HeldAppend : IAsyncDisposable
{
    NpgsqlConnection connection = null!;
    NpgsqlTransaction transaction = null!;

    public static string Body(string externalId, string kind = "patrol")
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind[kind])!.AsObject();
        node["externalId"] = externalId;
        return node.ToJsonString();
    }

    public static async Task<HeldAppend> StartAsync(IServiceProvider services, string connectionString, string externalId)
    {
        var held = new HeldAppend { connection = new NpgsqlConnection(connectionString) };
        await held.connection.OpenAsync();
        held.transaction = await held.connection.BeginTransactionAsync();
        var outcome = ActivityRules.Check(JsonSerializer.Deserialize<JsonElement>(Body(externalId)), Activities.SeedUnitLookup.Instance, new DateOnly(2026, 1, 1));
        Assert.True(outcome.IsValid);
        var id = ActivityIds.For("held-append", externalId);
        var store = services.GetRequiredService<IDocumentStore>();
        await using var session = store.LightweightSession(SessionOptions.ForTransaction(held.transaction));
        session.Events.StartStream<ActivityView>(id, ActivityEventTypes.Wrap(
            new ActivityRecorded(id, "held-append", outcome.Content!, DateTimeOffset.UtcNow), "held-append", null));
        await session.SaveChangesAsync();
        return held;
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.RollbackAsync();
        await connection.DisposeAsync();
    }
}
