using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Application.Tasks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Application.Tests.Supervision;

public sealed class RetryPolicyTests
{
    private readonly TestMonitors.RecordingReports _reports;
    private readonly TaskRunMonitor _monitor;
    private readonly RetryPolicy _retry;

    public RetryPolicyTests()
    {
        var monitors = new TestMonitors();
        _reports = monitors.Reports;
        _monitor = monitors.Monitor();
        _retry = new RetryPolicy(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(4), 3, _monitor, TimeProvider.System, NullLogger.Instance, "t1");
    }

    private static MilvusTargetException Unavailable() => new("ReplicateMessage", 14, null, true, "connection refused");

    [Fact]
    public async Task The_first_failure_shows_at_once_as_retrying_and_the_call_goes_on_until_it_succeeds()
    {
        var attempts = 0;
        var reportedAfterFirstFailure = false;
        var result = await _retry.RunAsync("write the pack", async _ =>
        {
            if (++attempts == 2)
            {
                await _monitor.FlushAsync(CancellationToken.None);
                reportedAfterFirstFailure = _reports.Last is { LastError: { } error } && error.Contains("connection refused") && _reports.Last.RecoveredAt is null;
            }

            if (attempts < 4) throw Unavailable();
            return 42;
        }, CancellationToken.None);

        Assert.Equal((42, 4), (result, attempts));
        Assert.True(reportedAfterFirstFailure, "the task showed as retrying, with the error, right after the first failed call");
        await _monitor.FlushAsync(CancellationToken.None);
        Assert.Equal("cannot write the pack: Milvus ReplicateMessage failed with gRPC status 14: connection refused", _reports.Last!.LastError);
        Assert.NotNull(_reports.Last.RecoveredAt);
        Assert.Equal(TaskHealth.Replicating, TaskHealth.Of(View(_reports.Last), DateTimeOffset.UtcNow)!.Status);
    }

    [Fact]
    public async Task A_failure_that_is_not_transient_halts_with_the_references_wording()
    {
        var attempts = 0;
        var halted = await Assert.ThrowsAsync<ReplicationHalted>(() => _retry.RunAsync("create collection books", _ =>
        {
            attempts++;
            throw new MilvusTargetException("CreateCollection", null, 1100, false, "invalid parameter");
        }, CancellationToken.None));

        Assert.Equal(1, attempts);
        Assert.Equal("fail to handle replicate message, err: cannot create collection books: Milvus CreateCollection failed with code 1100: invalid parameter", halted.Reason);
    }

    [Fact]
    public async Task A_source_channel_that_holds_unreadable_data_is_not_retried()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<ReplicationHalted>(() => _retry.RunAsync("open the source channel c", _ =>
        {
            attempts++;
            throw new SourceChannelException("c", "corrupt frame", retryable: false);
        }, CancellationToken.None));
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Bounded_retries_stop_after_their_attempts_and_any_failure_is_retried_until_it_succeeds()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<ReplicationHalted>(() => _retry.RunAsync("checkpoint", _ =>
        {
            attempts++;
            throw new InvalidOperationException("the event store is down");
        }, CancellationToken.None, RetryOn.AnyFailureBounded));
        Assert.Equal(3, attempts);

        attempts = 0;
        await _retry.RunAsync("load the source metadata", _ => ++attempts < 6 ? throw new InvalidOperationException("etcd is down") : Task.FromResult(true),
            CancellationToken.None, RetryOn.AnyFailure);
        Assert.Equal(6, attempts);
    }

    [Fact]
    public async Task Cancellation_ends_the_retries_without_a_halt()
    {
        using var cts = new CancellationTokenSource();
        var attempts = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _retry.RunAsync("write the pack", _ =>
        {
            if (++attempts == 3) cts.Cancel();
            throw Unavailable();
        }, cts.Token));
        Assert.Equal(3, attempts);
    }

    [Fact]
    public void A_backoff_doubles_up_to_its_limit_and_starts_again_after_progress()
    {
        var backoff = _retry.StartBackoff();
        Assert.False(backoff.AfterFailure);
        Assert.Equal([1, 2, 4, 4], Enumerable.Range(0, 4).Select(_ => (int)backoff.Next().TotalMilliseconds));
        Assert.True(backoff.AfterFailure);
        backoff.Reset();
        Assert.Equal(TimeSpan.FromMilliseconds(1), backoff.Next());
    }

    private static TaskView View(TaskRuntimeReport report) =>
        new("t1", new Domain.Tasks.MilvusTarget("http://t:19530", 5), new Domain.Tasks.CollectionSelection([new Domain.Tasks.CollectionInfo("*")], null),
            null, false, Domain.Tasks.TaskState.Running, null, [], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1) { Runtime = report };
}
