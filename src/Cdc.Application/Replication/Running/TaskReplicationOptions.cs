using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Target;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// How a task's replication runs: the source's replicate ("RPC") channel (<c>sourceConfig.replicateChan</c>), the
/// backoff of retried calls, how long a change waits for its collection or partition to appear on the target, and
/// how often checkpoints are written.
/// </summary>
/// <param name="ReplicateChannel">The source replicate channel, e.g. <c>by-dev-replicate-msg</c>.</param>
/// <param name="RetryDelay">The first delay before a transient failure is retried; doubled up to <paramref name="MaxRetryDelay"/>.</param>
/// <param name="MaxRetryDelay">The longest delay between retries.</param>
/// <param name="MissingTargetAttempts">How often a change waits (one <paramref name="RetryDelay"/> each) for its collection or partition.</param>
public sealed record TaskReplicationOptions(
    string ReplicateChannel,
    TimeSpan RetryDelay,
    TimeSpan MaxRetryDelay,
    int MissingTargetAttempts = 30)
{
    public CheckpointOptions Checkpoints { get; init; } = CheckpointOptions.Default;

    public TargetOperationApplier.WaitOptions OperationWait { get; init; } = TargetOperationApplier.WaitOptions.Default;

    /// <summary>
    /// Whether an Insert or Delete may go to the target as soon as it is read, ahead of the tick that closes its pack
    /// (see TaskReplicationRun.SendAheadAsync); when false every change waits for its tick, as the reference does.
    /// </summary>
    public bool SendDmlAhead { get; init; } = true;

    /// <summary>
    /// How far beyond what is about to be sent a task reserves time on a target pchannel (see
    /// <see cref="TargetTimeReservations"/>): about one event store write per margin of channel time and channel, and
    /// after a crash the next run's timestamps on the channel start up to this far ahead of the source's.
    /// </summary>
    public TimeSpan TargetTimeMargin { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The largest request apply mode "upsert" sends (an Insert's columns above it are split by rows): half the
    /// 64 MiB a Milvus proxy takes by default (milvus-io/milvus configs/milvus.yaml, proxy.grpc.serverMaxRecvSize).
    /// </summary>
    public int UpsertRequestBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>The settings the server uses for the configured replicate channel.</summary>
    public static TaskReplicationOptions For(string replicateChannel) =>
        new(replicateChannel, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));
}
