using System.Threading.Channels;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// Group commit for single-activity posts. A durable commit costs about 0.2 ms whatever it holds
/// (perf-notes.md), so concurrent posts that arrive together are recorded in one transaction: each caller
/// still gets its own answer (created, duplicate or conflict). A post never waits for company: a worker takes
/// whatever is queued the moment it is free. If a combined transaction fails, each request in it is retried on
/// its own, so one request's failure is never another's.
/// </summary>
public sealed class GroupCommit(ActivityRecorder recorder, ILogger<GroupCommit> log) : BackgroundService
{
    public const int Workers = 4;
    public const int MaxGroup = 256;

    sealed record Pending(RecordRequest Request, TaskCompletionSource<RecordResult> Answer);

    long largestGroup, combinedFailures;

    /// <summary>The most posts one transaction has held so far.</summary>
    public long LargestGroup => Interlocked.Read(ref largestGroup);

    /// <summary>How often a combined transaction failed and its posts were retried one by one.</summary>
    public long CombinedFailures => Interlocked.Read(ref combinedFailures);

    readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });

    public async Task<RecordResult> RecordAsync(RecordRequest request, CancellationToken ct)
    {
        var pending = new Pending(request, new TaskCompletionSource<RecordResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        await queue.Writer.WriteAsync(pending, ct);
        return await pending.Answer.Task.WaitAsync(ct);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkAsync(stoppingToken), stoppingToken)));

    async Task WorkAsync(CancellationToken ct)
    {
        var group = new List<Pending>(MaxGroup);
        try
        {
            while (await queue.Reader.WaitToReadAsync(ct))
            {
                group.Clear();
                while (group.Count < MaxGroup && queue.Reader.TryRead(out var next)) group.Add(next);
                if (group.Count > 0) await CommitAsync(group);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            while (queue.Reader.TryRead(out var left)) left.Answer.TrySetCanceled(ct);
        }
    }

    async Task CommitAsync(IReadOnlyList<Pending> group)
    {
        if (group.Count > LargestGroup) Interlocked.Exchange(ref largestGroup, group.Count);
        try
        {
            // Not the caller's token: once combined, a request's cancellation must not abort the others'.
            var results = await recorder.RecordAsync(group.Select(p => p.Request).ToArray(), CancellationToken.None);
            for (var i = 0; i < group.Count; i++) group[i].Answer.TrySetResult(results[i]);
        }
        catch (Exception e) when (group.Count > 1)
        {
            log.LogWarning(e, "A combined commit of {Count} posts failed; retrying each on its own", group.Count);
            Interlocked.Increment(ref combinedFailures);
            foreach (var pending in group) await CommitAsync([pending]);
        }
        catch (Exception e)
        {
            group[0].Answer.TrySetException(e);
        }
    }
}
