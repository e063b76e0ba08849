using CoordinationEvents.Testing;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Infrastructure;

/// <summary>
/// The service's data source prepares its frequent statements automatically (ServiceSetup.CreateDataSource).
/// That is only safe with a driver in which a batch may run again on another connection: Marten does exactly
/// that when it retries a SaveChanges that hit a deadlock. Npgsql 9.0.x answered "26000: prepared statement
/// "_auto0" does not exist" there (npgsql#6432); this test fails on such a driver.
/// </summary>
public sealed class DriverTests
{
    [Fact]
    public async Task A_batch_run_again_on_another_connection_of_the_service_data_source_succeeds()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("driver");
        await using var dataSource = ServiceSetup.CreateDataSource(connectionString);
        Assert.Equal(ServiceSetup.MaxAutoPrepare, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxAutoPrepare);

        await using (var create = dataSource.CreateCommand("create table driver_probe (id int primary key)"))
            await create.ExecuteNonQueryAsync();
        await using var batch = new NpgsqlBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("insert into driver_probe (id) select coalesce(max(id), 0) + 1 from driver_probe"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("select count(*) from driver_probe"));

        // Often enough on one connection to be prepared there (AutoPrepareMinUsages, 5 by default).
        await using (var first = await dataSource.OpenConnectionAsync())
        {
            batch.Connection = first;
            for (var i = 0; i < 6; i++) await batch.ExecuteNonQueryAsync();
        }
        // Then on a new physical connection, as a retry after a broken or cleared one would be.
        dataSource.Clear();
        await using var second = await dataSource.OpenConnectionAsync();
        batch.Connection = second;
        await batch.ExecuteNonQueryAsync();

        await using var count = second.CreateCommand();
        count.CommandText = "select count(*) from driver_probe";
        Assert.Equal(7L, await count.ExecuteScalarAsync());
    }
}
