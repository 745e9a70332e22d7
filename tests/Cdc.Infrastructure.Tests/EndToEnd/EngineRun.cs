using Cdc.Application.EventStore;
using Cdc.Application.Metrics;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Running;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Secrets;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Infrastructure.Target;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Tests.EndToEnd;

/// <summary>
/// A task's replication running in an end-to-end test: <see cref="TaskReplication"/> on this server's adapters with
/// the short waits tests use, polled until what the test expects holds (a halt of the run surfaces at once), stopped.
/// </summary>
internal sealed record EngineRun(Task Task, CancellationTokenSource Stop, TimeSpan WaitLimit)
{
    /// <summary>
    /// The replication on the real adapters (msgstream decoder, target client, event store) with the test options:
    /// ticks every 100 ms, retries after 1 s at most, checkpoints every <paramref name="checkpointInterval"/> (200 ms
    /// unless given), a collection waited for 20 times 100 ms.
    /// </summary>
    public static TaskReplication Replication(
        ISourceMetadata metadata, ISourceChannels channels, IEventStore store, string replicateChannel, ICdcMetrics metrics,
        ITaskRuntimeReports reports, TimeSpan? checkpointInterval = null, TimeSpan? targetTimeMargin = null) => new(
        metadata, channels, new MsgStreamDecoder(), new SourceMessageIdEncoder(),
        new MilvusTargetFactory(), new DmlMessageRewriter(), new ControlMessageFactory(),
        new AesGcmSecretProtector(new byte[32]), store, TimeProvider.System, NullLogger<TaskReplication>.Instance,
        new TaskReplicationOptions(replicateChannel, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), MissingTargetAttempts: 20)
        {
            Checkpoints = new CheckpointOptions(checkpointInterval ?? TimeSpan.FromMilliseconds(200)),
            OperationWait = new TargetOperationApplier.WaitOptions(20, TimeSpan.FromMilliseconds(100)),
            TargetTimeMargin = targetTimeMargin ?? TaskReplicationOptions.For(replicateChannel).TargetTimeMargin,
        },
        metrics, reports, new MsgPositionCodec(), new UpsertRewriter());

    /// <summary>Runs a task until <see cref="StopAsync"/> or <paramref name="ct"/>.</summary>
    public static EngineRun Start(TaskReplication replication, TaskRunContext context, TimeSpan waitLimit, CancellationToken ct)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        return new EngineRun(replication.RunAsync(context, stop.Token), stop, waitLimit);
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails naming <paramref name="what"/> after the wait limit, or with the run's halt.</summary>
    public async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow + WaitLimit;
        while (!condition())
        {
            if (Task.IsCompleted) await Task; // surfaces a halt
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await System.Threading.Tasks.Task.Delay(100);
        }
    }

    /// <summary>Stops the run and checks that it ended by the cancellation.</summary>
    public async Task StopAsync()
    {
        await Stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WaitAsync(WaitLimit));
        Stop.Dispose();
    }
}
