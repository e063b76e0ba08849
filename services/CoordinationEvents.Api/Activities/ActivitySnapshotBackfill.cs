using Marten;
using Npgsql;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// Writes the write model's snapshot (<c>mt_doc_activity</c>, kept inline since issue 21) of every activity recorded
/// before it existed, so that a database of an earlier version needs no manual step: until its snapshot is written,
/// such an activity cannot be corrected (the correction answers 404), and nothing else changes. Each pass takes up
/// to 500 activities that have a read model but no snapshot, folds their streams and stores the snapshots; it stops
/// when none is left. Safe to run on several instances at once: a snapshot folded from the same stream is the same.
/// </summary>
public sealed class ActivitySnapshotBackfill(IDocumentStore store, NpgsqlDataSource db, ILogger<ActivitySnapshotBackfill> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var written = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var missing = new List<Guid>();
                await using (var cmd = db.CreateCommand("""
                    select v.id from mt_doc_activityview v
                    where not exists (select 1 from mt_doc_activity a where a.id = v.id) limit 500
                    """))
                await using (var reader = await cmd.ExecuteReaderAsync(stoppingToken))
                    while (await reader.ReadAsync(stoppingToken)) missing.Add(reader.GetGuid(0));
                if (missing.Count == 0) break;
                await using var session = store.LightweightSession();
                foreach (var id in missing)
                    if (await session.Events.AggregateStreamAsync<Activity>(id, token: stoppingToken) is { } activity)
                        session.Store(activity);
                await session.SaveChangesAsync(stoppingToken);
                written += missing.Count;
            }
            if (written > 0) log.LogInformation("Wrote the snapshots of {Count} activities recorded before snapshots were kept", written);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            log.LogError(e, "Writing the activities' snapshots stopped after {Count}; it starts again with the service", written);
        }
    }
}
