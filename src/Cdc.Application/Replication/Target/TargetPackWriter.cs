using System.Collections.Concurrent;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Target;

/// <summary>How the DML writer behaves: sending ahead of the tick, and how long a change waits for its collection.</summary>
/// <param name="SendDmlAhead">Whether an Insert or Delete may go to the target ahead of its tick (see <see cref="TargetPackWriter.TryWriteAheadAsync"/>).</param>
/// <param name="MissingTargetAttempts">How often a change waits (one <paramref name="RetryDelay"/> each) for its collection or partition.</param>
/// <param name="RetryDelay">The wait between those attempts.</param>
/// <param name="IgnorePartition">The task's <c>ignore_partition</c>: partition drops are not replicated.</param>
public sealed record DmlWriteOptions(bool SendDmlAhead, int MissingTargetAttempts, TimeSpan RetryDelay, bool IgnorePartition);

/// <summary>
/// Writes a task's DML to the target: each pack to every target pchannel its source pchannel feeds (the changes of each
/// in their order, a tick to the others), with one <see cref="TargetChannelWriter"/> per target pchannel shared by every
/// source pchannel that feeds it; an Insert or Delete ahead of its tick when that changes nothing the target's consumers
/// see; and the drops read on the DML channels, once every shard carried them (<see cref="CollectionDrops"/>). The
/// writer of apply mode "replicate".
/// </summary>
public sealed class TargetPackWriter(
    string taskId,
    IMilvusTarget target,
    RouteTable routes,
    CollectionSetup setup,
    IDmlMessageRewriter rewriter,
    IControlMessageFactory control,
    RetryPolicy retry,
    TaskRunMonitor monitor,
    ReplayCounter replays,
    TimeProvider clock,
    ILogger logger,
    DmlWriteOptions options,
    TargetTimeReservations? reservations = null) : IDmlWriter
{
    private readonly ConcurrentDictionary<string, TargetChannelWriter> _writers = new(StringComparer.Ordinal);
    private readonly RoutableChanges _routable = new(taskId, routes, setup, clock, logger, options);
    private readonly CollectionDrops _drops = new(taskId, target, routes, retry, logger, options.IgnorePartition);

    /// <summary>
    /// Writes a pack to every target pchannel its source pchannel feeds. Parts already acknowledged are not sent again
    /// when a later part is retried. Drops come after the DML of their pack: nothing of a collection follows its drop.
    /// </summary>
    public async Task WritePackAsync(ChangePack pack, CancellationToken ct)
    {
        var changes = await _routable.OfAsync(pack, ct);
        var byTarget = changes.ToLookup(c => routes.RouteOf(c)!.TargetPhysicalChannelOf(c), StringComparer.Ordinal);
        var targets = routes.TargetPhysicalChannelsOf(pack.Channel)
            .Concat(byTarget.Select(g => g.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var parts = targets.Select(t => (Channel: t, Pack: pack with { Changes = [.. byTarget[t]] })).ToList();

        var written = 0;
        await retry.RunAsync($"write the pack of {pack.Channel} ending at {pack.EndPosition.Describe()}", async token =>
        {
            for (; written < parts.Count; written++)
            {
                await Writer(parts[written].Channel).WriteAsync(parts[written].Pack, token);
                monitor.Written(parts[written].Pack);
            }
        }, ct);

        replays.Count(pack);
        foreach (var drop in pack.Changes.Where(c => !RouteTable.IsDml(c)))
            await _drops.ApplyAsync(drop, pack.Channel, StampAsync, ct);
    }

    /// <summary>
    /// Sends an Insert or Delete to the target as soon as it is read, ahead of the tick that closes its pack, when that
    /// changes nothing the target's consumers see: its collection and partition are on the target, its target pchannel
    /// is fed by this source pchannel alone, and that channel's timestamps need no shift. The target's consumers take
    /// what was written up to the next tick as one pack in the order written (milvus-io/milvus
    /// pkg/mq/msgstream/mq_msgstream.go, MqTtMsgStream), as the source's own consumers read the source channel, and
    /// that tick follows in the closing pack at once. The caller checks that everything read before it in the span went
    /// ahead too. False when it must wait for its pack.
    /// </summary>
    public async Task<bool> TryWriteAheadAsync(SourceChange change, SourcePosition position, HybridTimestamp lastTick, CancellationToken ct)
    {
        if (!options.SendDmlAhead || !RouteTable.IsDml(change) || change.Timestamp <= lastTick || routes.RouteOf(change) is not { } route
            || !route.KnowsPartitionOf(change))
            return false;

        var targetChannel = route.TargetPhysicalChannelOf(change);
        if (!routes.FedByOneSource(targetChannel)) return false;

        var ahead = new ChangePack(position.Channel, lastTick, change.Timestamp, [change], position, position);
        if (!await retry.RunAsync($"write the {change.Kind} at {change.Origin.Describe()} ahead of its tick",
                t => Writer(targetChannel).TryWriteAheadAsync(ahead, t), ct))
            return false;

        monitor.Written(ahead);
        replays.Count(ahead);
        return true;
    }

    /// <summary>The one writer of a target pchannel, shared by every source pchannel that feeds it.</summary>
    private TargetChannelWriter Writer(string targetChannel) =>
        _writers.TryGetValue(targetChannel, out var writer)
            ? writer
            : _writers.GetOrAdd(targetChannel, c => new TargetChannelWriter(target, new TargetTimestampRewriter(c, rewriter, control, clock), routes, reservations?.For(c)));

    /// <summary>
    /// At a clean stop, once no loop writes any more: each target pchannel's reserved time comes down to what was sent
    /// on it, so the next run does not jump ahead by the margin.
    /// </summary>
    public async Task SettleAsync(CancellationToken ct)
    {
        foreach (var writer in _writers.Values) await writer.SettleAsync(ct);
    }

    /// <summary>
    /// Applies a drop at a timestamp above everything sent on the collection's target pchannels (Milvus writes the drop
    /// to each of them), reserved on each first.
    /// </summary>
    private Task StampAsync(CollectionRoute route, SourceChange drop, Func<HybridTimestamp, CancellationToken, Task> apply, CancellationToken ct) =>
        TargetChannelWriter.StampAsync(
            [.. route.Target.VirtualChannels.Select(ChannelMapping.ToPhysical).Distinct(StringComparer.Ordinal).Select(Writer)],
            drop.Timestamp, apply, ct);

    public void Dispose()
    {
        foreach (var writer in _writers.Values) writer.Dispose();
    }
}
