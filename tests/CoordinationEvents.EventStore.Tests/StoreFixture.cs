using CoordinationEvents.Testing;
using Npgsql;

namespace CoordinationEvents.EventStore.Tests;

public sealed record Happened(Guid Id, int N);

public sealed record Noted(Guid Id, string Text);

/// <summary>A fresh database with the event store's schema, per test.</summary>
public sealed class StoreDatabase : IAsyncDisposable
{
    public required NpgsqlDataSource DataSource { get; init; }
    public EventTypeRegistry Registry { get; } = new EventTypeRegistry().Register<Happened>("happened").Register<Noted>("noted");

    public static async Task<StoreDatabase> CreateAsync(params Migration[] more)
    {
        var server = await PostgresServer.SharedAsync();
        var db = new StoreDatabase { DataSource = NpgsqlDataSource.Create(await server.CreateDatabaseAsync("es")) };
        await SchemaMigrator.MigrateAsync(db.DataSource, [.. EventStoreSchema.Migrations, .. more]);
        return db;
    }

    public EventStore Store(params IInlineProjection[] inline) => new(DataSource, Registry, inline);

    public static StreamAppend Append(Guid id, int expected, params object[] events) =>
        new(id, "test", expected, events, new EventMetadata("tests", "corr-1", DateTimeOffset.UtcNow));

    public async Task<long> ScalarAsync(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
