using CoordinationEvents.Api.Core;
using Marten;
using Marten.Services;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// Counts activities where they are really stored: after the commit of any session (a single post's group commit, a
/// batch, an import chunk, a correction, a retraction), from the activity events the commit held. A rolled-back
/// transaction (a racing post, a stale <c>If-Match</c>) never reaches here, so a retry is counted once.
/// </summary>
public sealed class ActivityCounters : DocumentSessionListenerBase
{
    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        foreach (var e in commit.GetEvents())
        {
            switch (e.Data)
            {
                case ActivityRecorded recorded:
                    Telemetry.ActivitiesRecorded.Add(1, new("kind", recorded.Content.Kind), new("client", recorded.SourceSystem));
                    break;
                case ActivityCorrected corrected:
                    Telemetry.ActivitiesCorrected.Add(1, new("kind", corrected.Content.Kind), new("client", Client(e)));
                    break;
                case ActivityRetracted:
                    Telemetry.ActivitiesRetracted.Add(1, new KeyValuePair<string, object?>("client", Client(e)));
                    break;
            }
        }
        return Task.CompletedTask;
    }

    static string Client(JasperFx.Events.IEvent e) => e.GetHeader(ActivityEventTypes.ClientHeader)?.ToString() ?? "";
}
