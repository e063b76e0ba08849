using CoordinationEvents.Api.Units;

namespace CoordinationEvents.Api.Statistics;

/// <summary>
/// Cells roll up the unit tree as it was when each event was applied: when a unit moves, the statistics are
/// refilled (asked for here, done by <see cref="StatisticsRebuild"/> on the instance that runs the projection).
/// Handling the message twice asks twice, which is harmless.
/// </summary>
public static class UnitMovedHandler
{
    public static Task Handle(UnitMoved message, StatisticsRebuild rebuild, CancellationToken ct) =>
        rebuild.RequestAsync(StatisticsProjection.ProjectionName, ct);
}
