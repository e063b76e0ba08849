using CoordinationEvents.Api.Units;

namespace CoordinationEvents.Api.Statistics;

/// <summary>
/// Cells roll up the unit tree as it was on each activity's date: when the organisation changes, the statistics
/// are restated (asked for here, done by <see cref="StatisticsRebuild"/> on the instance that runs the projection).
/// Handling the message twice asks twice, which is harmless.
/// </summary>
public static class OrganisationChangedHandler
{
    public static Task Handle(OrganisationChanged message, StatisticsRebuild rebuild, CancellationToken ct) =>
        rebuild.RequestAsync(StatisticsProjection.ProjectionName, ct);
}
