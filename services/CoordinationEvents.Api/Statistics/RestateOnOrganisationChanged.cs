using CoordinationEvents.Api.Units;

namespace CoordinationEvents.Api.Statistics;

/// <summary>
/// Cells roll up the unit tree as it was on each activity's date: when the organisation changes, the figures it
/// moves are restated. The change's durable message leaves a row in <c>organisation_restates</c> (once per change:
/// a message handled twice inserts nothing the second time), and <see cref="StatisticsRebuild"/>, on the instance
/// that runs the projection, restates the cells from the change's month on and marks the row done in the same
/// transaction.
/// </summary>
public static class OrganisationChangedHandler
{
    public static Task Handle(OrganisationChanged message, StatisticsRebuild rebuild, CancellationToken ct) =>
        rebuild.RequestRestateAsync(message, ct);
}
