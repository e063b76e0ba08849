using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using Marten;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Units;

/// <summary>The Units feature's wiring: the units table (read by <see cref="UnitDirectory"/>), its seed, and its validator.</summary>
public static class UnitsFeature
{
    public static IServiceCollection AddUnits(this IServiceCollection services)
    {
        services.AddSingleton<UnitDirectory>();
        services.AddSingleton<IValidator<UnitRequest>, UnitRequestValidator>();
        OpenApiTags.Describe(services, "Units", "The unit tree: provinces, districts, border posts and communes (changed by administrators).");
        return services;
    }

    public static void ConfigureStore(StoreOptions options) => options.Storage.ExtendedSchemaObjects.Add(Table());

    /// <summary>The units table, created and upgraded by Marten (Weasel) with the rest of the schema.</summary>
    public static Table Table()
    {
        var t = new Table(UnitDirectory.TableName);
        t.AddColumn("unit_id", "text").AsPrimaryKey();
        t.AddColumn("name", "text").NotNull();
        t.AddColumn("type", "text").NotNull();
        t.AddColumn("parent_id", "text").ForeignKeyTo(UnitDirectory.TableName, "unit_id");
        t.AddColumn("created_at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        t.AddColumn("updated_at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        t.Indexes.Add(new IndexDefinition("units_parent") { Columns = ["parent_id"] });
        return t;
    }

    /// <summary>
    /// The seeded tree, written once into an empty table. Two instances starting together may both find it
    /// empty: the second one's rows conflict with the first one's and are skipped.
    /// </summary>
    public static string SeedSql() => $"insert into {UnitDirectory.TableName} (unit_id, name, type, parent_id) select * from (values\n" + string.Join(",\n",
        UnitSeed.Units.Select(u => $"('{u.UnitId}', '{u.Name.Normalize(System.Text.NormalizationForm.FormC)}', '{u.Type}', {(u.ParentId is null ? "null::text" : $"'{u.ParentId}'")})"))
        + $"\n) as seed where not exists (select 1 from {UnitDirectory.TableName}) on conflict do nothing";
}

/// <summary>Seeds the unit tree after Marten has created the schema, when the table is empty.</summary>
public sealed class UnitSeedData(NpgsqlDataSource db) : Marten.Schema.IInitialData
{
    public async Task Populate(IDocumentStore store, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand(UnitsFeature.SeedSql());
        await cmd.ExecuteNonQueryAsync(cancellation);
    }
}
