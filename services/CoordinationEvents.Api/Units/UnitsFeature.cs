using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using Marten;
using Npgsql;
using JasperFx.Events.Projections;

namespace CoordinationEvents.Api.Units;

/// <summary>The Units feature's wiring: the unit events and records (read by <see cref="UnitDirectory"/>), the seed, and the validator.</summary>
public static class UnitsFeature
{
    public static IServiceCollection AddUnits(this IServiceCollection services)
    {
        services.AddSingleton<UnitDirectory>();
        services.AddSingleton<IValidator<UnitRequest>, UnitRequestValidator>();
        services.ConfigureSwaggerGen(c =>
        {
            c.SchemaFilter<UnitsOpenApi>();
            c.OperationFilter<UnitsOpenApi>();
        });
        OpenApiTags.Describe(services, "Units", "The unit tree as history: provinces and cities, districts, communes and wards, border guard commands and posts, on any date (changed by administrators, one change or one reorganisation at a time).");
        return services;
    }

    /// <summary>The unit events under their stable names, and each unit's record kept inline with them (read by <see cref="UnitDirectory"/>).</summary>
    public static void ConfigureStore(StoreOptions options)
    {
        UnitEventTypes.Map(options);
        Reorganisations.Map(options);
        options.Schema.For<UnitRecord>().DocumentAlias("unitrecord");
        options.Projections.Add(new UnitRecordProjection(), ProjectionLifecycle.Inline);
    }

    /// <summary>
    /// Every change of the organisation takes this lock in its transaction (<c>pg_advisory_xact_lock</c>), then reads
    /// the history and checks the change against it: two administrators never both pass a check that their changes
    /// together break (a cycle, a parent that ends).
    /// </summary>
    public const long WriteLock = 0x756e6974_73L; // "units"

    /// <summary>Begins the session's transaction, takes <see cref="WriteLock"/>, and reads the history inside it.</summary>
    public static async Task<UnitHistory> LockAsync(IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        await session.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand($"select pg_advisory_xact_lock({WriteLock})", session.Connection))
            await cmd.ExecuteNonQueryAsync(ct);
        return await UnitDirectory.LoadAsync(session.Connection, VietnamCalendar.Today(clock), ct);
    }
}

/// <summary>Each unit's events as one document (<see cref="UnitRecord"/>), committed with them.</summary>
public sealed class UnitRecordProjection : Marten.Events.Aggregation.SingleStreamProjection<UnitRecord, Guid>
{
    public override UnitRecord? Evolve(UnitRecord? snapshot, Guid id, JasperFx.Events.IEvent e) =>
        e.Data is UnitEvent change ? (snapshot ?? new UnitRecord { Id = id }).With(change) : snapshot;
}

/// <summary>
/// The organisation on first start: every unit of <see cref="UnitSeed"/> established (it has always existed), or,
/// in a database of an earlier version, every row of its <c>units</c> table. Under <see cref="UnitsFeature.WriteLock"/>,
/// so two instances starting together seed once.
/// </summary>
public sealed class UnitSeedData(TimeProvider clock) : Marten.Schema.IInitialData
{
    public async Task Populate(IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        var history = await UnitsFeature.LockAsync(session, clock, cancellation);
        if (history.Lives.Count > 0) return;
        var units = await LegacyUnitsAsync(session.Connection, cancellation) ?? UnitSeed.Units.Select(u => new Unit(u.UnitId, u.Name, u.Type, u.ParentId)).ToList();
        var now = clock.GetUtcNow();
        foreach (var u in units)
            session.Events.StartStream(UnitEventTypes.StreamIdOf(u.UnitId), new UnitEstablished
            {
                UnitId = u.UnitId, Name = u.Name.Normalize(System.Text.NormalizationForm.FormC), Type = u.Type, ParentId = u.ParentId,
                RecordedAt = now, By = "seed",
            });
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>The rows of the <c>units</c> table that versions before the history kept, if it exists and has any.</summary>
    static async Task<List<Unit>?> LegacyUnitsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using (var exists = new NpgsqlCommand("select to_regclass('units') is not null", connection))
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!) return null;
        var units = new List<Unit>();
        await using var cmd = new NpgsqlCommand("select unit_id, name, type, parent_id from units", connection);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            units.Add(new Unit(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        return units.Count == 0 ? null : units;
    }
}
