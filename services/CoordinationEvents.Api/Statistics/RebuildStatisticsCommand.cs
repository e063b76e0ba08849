namespace CoordinationEvents.Api.Statistics;

/// <summary><c>dotnet run --project services/CoordinationEvents.Api -- rebuild-statistics</c>, with the service stopped.</summary>
[JasperFx.CommandLine.Description("Rebuild the statistics with the set-based fill (as the admin endpoint does) in a database no running service uses", Name = "rebuild-statistics")]
public sealed class RebuildStatisticsCommand : JasperFx.CommandLine.JasperFxAsyncCommand<JasperFx.CommandLine.NetCoreInput>
{
    public override async Task<bool> Execute(JasperFx.CommandLine.NetCoreInput input)
    {
        using var host = input.BuildHost();
        await host.Services.GetRequiredService<Marten.IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return await host.Services.GetRequiredService<StatisticsRebuild>().RunOfflineAsync(Console.Out, CancellationToken.None);
    }
}
