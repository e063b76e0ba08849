using Marten;
using Marten.Services;
using Npgsql;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// Marten's logger (category <c>Marten.IDocumentStore</c>, as Marten's own default, which is internal), with one
/// change: a failure that is a client's race, not a fault, is logged at Debug without its stack trace. Marten's
/// default logs every failed command at Error with the exception, including the two that the service expects and answers:
/// <list type="bullet">
/// <item><c>ExistingStreamIdCollisionException</c>: racing posts of one externalId; the loser decides again and
/// answers 200 or 409 (Activities/ActivityRecorder.cs, an import chunk's retry);</item>
/// <item><c>ConcurrencyException</c> (and the stream version check): a correction or retraction that lost a race,
/// answered 412 or 409.</item>
/// </list>
/// Any other failure is logged at Error with its command, as Marten's default does; successes at Debug.
/// </summary>
public sealed class ClientConflictLogging(ILogger logger) : IMartenLogger, IMartenSessionLogger
{
    public static bool IsClientConflict(Exception e) => e is Marten.Exceptions.ExistingStreamIdCollisionException
        or JasperFx.ConcurrencyException
        or JasperFx.Events.EventStreamUnexpectedMaxEventIdException
        || (e.InnerException is { } inner && IsClientConflict(inner));

    public IMartenSessionLogger StartSession(IQuerySession session) => this;
    public void SchemaChange(string sql) => logger.LogInformation("Executed schema update SQL:\n{Sql}", sql);

    public void LogSuccess(NpgsqlCommand command)
    {
        if (logger.IsEnabled(LogLevel.Debug)) logger.LogDebug("Marten executed: {Sql}", command.CommandText);
    }

    public void LogSuccess(NpgsqlBatch batch)
    {
        if (logger.IsEnabled(LogLevel.Debug)) logger.LogDebug("Marten executed a batch: {Sql}", Text(batch));
    }

    public void OnBeforeExecute(NpgsqlCommand command) { }
    public void OnBeforeExecute(NpgsqlBatch batch) { }

    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit)
    {
        if (logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("Persisted {Updated} updates, {Inserted} inserts, {Deleted} deletions", commit.Updated.Count(), commit.Inserted.Count(), commit.Deleted.Count());
    }

    public void LogFailure(NpgsqlCommand command, Exception ex)
    {
        if (IsClientConflict(ex)) Quiet(ex);
        else logger.LogError(ex, "Marten encountered an exception executing {Sql}", command.CommandText);
    }

    public void LogFailure(NpgsqlBatch batch, Exception ex)
    {
        if (IsClientConflict(ex)) Quiet(ex);
        else logger.LogError(ex, "Marten encountered an exception executing {Sql}", Text(batch));
    }

    public void LogFailure(Exception ex, string message)
    {
        if (IsClientConflict(ex)) Quiet(ex);
        else logger.LogError(ex, "Marten encountered an exception with message: {Message}", message);
    }

    static string Text(NpgsqlBatch batch) => string.Join(";\n", batch.BatchCommands.Cast<NpgsqlBatchCommand>().Select(c => c.CommandText));

    void Quiet(Exception ex) => logger.LogDebug("A client's race, answered as such: {Type}: {Message}", ex.GetType().Name, ex.Message);
}
