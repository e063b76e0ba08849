using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CoordinationEvents.Api.Tests.Operations;

/// <summary>
/// A client's retry or race is answered (200, 409, 412), not logged as a fault: racing identical posts (Marten's
/// <c>ExistingStreamIdCollisionException</c>, decided again), racing posts of one externalId with other content,
/// duplicates in a batch, racing corrections with one <c>If-Match</c> (Marten's <c>ConcurrencyException</c>), a stale
/// <c>If-Match</c>, a repeated retraction and a correction of a retracted activity leave no log entry at Error or above, and none with a stack trace.
/// </summary>
public sealed class ClientConflictLogTests(ITestOutputHelper output)
{
    sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception);

    sealed class Capture : ILoggerProvider
    {
        public readonly ConcurrentQueue<Entry> Entries = new();
        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void Dispose() { }

        sealed class Logger(Capture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) owner.Entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), exception));
            }
        }
    }

    sealed class LoggedService(string connectionString, Capture capture) : ServiceInstance(connectionString)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(logging => logging.AddProvider(capture));
        }
    }

    static string Body(string kind, string externalId, Action<JsonObject>? change = null)
    {
        var node = JsonNode.Parse(HeldAppend.Body(externalId, kind))!.AsObject();
        change?.Invoke(node);
        return node.ToJsonString();
    }

    [Fact]
    public async Task Duplicates_and_conflicts_are_answered_without_error_logs_or_stack_traces()
    {
        var server = await PostgresServer.SharedAsync();
        var capture = new Capture();
        await using var api = new LoggedService(await server.CreateDatabaseAsync("logs", maxPoolSize: 40), capture);
        using var reporter = api.Reporter;
        Assert.Equal(HttpStatusCode.OK, (await reporter.GetAsync("/health/ready")).StatusCode);

        for (var round = 0; round < 3; round++)
        {
            // 20 racing identical posts: one starts the stream, the others collide on it and answer its id.
            var same = Body("patrol", $"race-{round}");
            var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            {
                using var c = api.Reporter;
                return (await c.PostJsonAsync("/api/v1/activities", same)).StatusCode;
            }));
            Assert.Single(statuses, s => s == HttpStatusCode.Created);
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Created or HttpStatusCode.OK, s.ToString()));

            // 10 racing posts of one externalId with different content: one 201, the rest 409.
            var conflicting = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
            {
                using var c = api.Reporter;
                return (await c.PostJsonAsync("/api/v1/activities", Body("patrol", $"conflict-{round}", b => b["details"]!["patrolParticipants"] = 2 + i))).StatusCode;
            }));
            Assert.Single(conflicting, s => s == HttpStatusCode.Created);
            Assert.All(conflicting, s => Assert.True(s is HttpStatusCode.Created or HttpStatusCode.Conflict, s.ToString()));
        }

        // Racing batches holding the same items.
        var batch = "{\"activities\":[" + string.Join(",", Enumerable.Range(0, 20).Select(i => Body("meeting", $"batch-{i}"))) + "]}";
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var c = api.Reporter;
            Assert.Equal(HttpStatusCode.OK, (await c.PostJsonAsync("/api/v1/activities/batch", batch)).StatusCode);
        }));

        // Racing corrections with the same If-Match: one wins, the other is 412 (a commit that found the stream moved).
        var meeting = Body("meeting", "correct-race");
        var id = (await (await reporter.PostJsonAsync("/api/v1/activities", meeting)).JsonAsync()).GetProperty("activityId").GetGuid();
        for (var round = 0; round < 8; round++)
        {
            var version = (await (await reporter.GetAsync($"/api/v1/activities/{id}")).JsonAsync()).GetProperty("version").GetInt32();
            var start = new TaskCompletionSource();
            var racers = Enumerable.Range(0, 3).Select(async i =>
            {
                using var c = api.Reporter;
                await start.Task;
                return (await c.PutJsonAsync($"/api/v1/activities/{id}", Body("meeting", "correct-race", b => b["details"]!["meetingAttendees"] = 100 + round * 3 + i), $"\"{version}\"")).StatusCode;
            }).ToArray();
            start.SetResult();
            var results = await Task.WhenAll(racers);
            Assert.Single(results, s => s == HttpStatusCode.OK);
            Assert.All(results, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.PreconditionFailed, s.ToString()));
        }
        // A stale If-Match, and a second retraction.
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", meeting, "\"1\"")).AssertProblemAsync(412);
        Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", """{"reason":"trùng"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", """{"reason":"lần nữa"}""")).StatusCode);
        var retracted = (await (await reporter.GetAsync($"/api/v1/activities/{id}")).JsonAsync()).GetProperty("version").GetInt32();
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", meeting, $"\"{retracted}\"")).AssertProblemAsync(409);

        foreach (var e in capture.Entries) output.WriteLine($"{e.Level} {e.Category}: {e.Message} {e.Exception?.GetType().Name}");
        var errors = capture.Entries.Where(e => e.Level >= LogLevel.Error).ToArray();
        Assert.True(errors.Length == 0, "error logs for a client's duplicates and conflicts:\n"
            + string.Join("\n", errors.Select(e => $"{e.Level} {e.Category}: {e.Message}\n{e.Exception}")));
        var traces = capture.Entries.Where(e => e.Exception is not null).ToArray();
        Assert.True(traces.Length == 0, "stack traces logged for a client's duplicates and conflicts:\n"
            + string.Join("\n", traces.Select(e => $"{e.Level} {e.Category}: {e.Message}\n{e.Exception}")));
    }
}
