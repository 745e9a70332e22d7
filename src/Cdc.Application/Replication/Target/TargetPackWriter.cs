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
/// see; and the drops read on the DML channels, once every shard carried them (<see cref="DropCoordinator"/>).
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
    TargetTimeReservations? reservations = null) : IDisposable
{
    private readonly ConcurrentDictionary<string, TargetChannelWriter> _writers = new(StringComparer.Ordinal);
    private readonly DropCoordinator _drops = new();

    /// <summary>
    /// Writes a pack to every target pchannel its source pchannel feeds. Parts already acknowledged are not sent again
    /// when a later part is retried. Drops come after the DML of their pack: nothing of a collection follows its drop.
    /// </summary>
    public async Task WritePackAsync(ChangePack pack, CancellationToken ct)
    {
        var changes = await RoutableChangesAsync(pack, ct);
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
            await DropAsync(drop, pack.Channel, ct);
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

    /// <summary>A DropCollection or DropPartition read on a shard: applied once every shard carried it.</summary>
    private async Task DropAsync(SourceChange drop, string pchannel, CancellationToken ct)
    {
        switch (drop)
        {
            case DropCollectionChange d when routes.TryGet(d.CollectionId, out var route):
                await _drops.ArriveAsync($"collection {d.CollectionId}", [.. route.Source.VirtualChannels], pchannel, d.Origin.VirtualChannel, async token =>
                {
                    await StampAsync(route, d, (at, s) => retry.RunAsync($"drop collection {route.TargetDatabase}.{route.TargetName} at {d.Origin.Describe()}", async t =>
                    {
                        try
                        {
                            await target.DropCollectionAsync(route.TargetDatabase, route.TargetName, at, t);
                        }
                        catch (MilvusTargetException ex) when (ex.IsCollectionNotFound)
                        {
                            // Already gone (a drop replayed after a restart).
                        }
                    }, s), token);
                    routes.Remove(d.CollectionId);
                    logger.LogInformation("task {TaskId} dropped collection {Database}.{Collection}", taskId, route.TargetDatabase, route.TargetName);
                }, ct);
                break;
            case DropPartitionChange d when routes.TryGet(d.CollectionId, out var route):
                await _drops.ArriveAsync($"partition {d.CollectionId}/{d.PartitionId}", [.. route.Source.VirtualChannels], pchannel, d.Origin.VirtualChannel, async token =>
                {
                    if (options.IgnorePartition) return;
                    await StampAsync(route, d, (at, s) => retry.RunAsync($"drop partition {d.PartitionName} of {route.TargetDatabase}.{route.TargetName} at {d.Origin.Describe()}", async t =>
                    {
                        try
                        {
                            await target.DropPartitionAsync(route.TargetDatabase, route.TargetName, d.PartitionName, at, t);
                        }
                        catch (MilvusTargetException ex) when (ex.MilvusCode == MilvusTargetException.PartitionNotFoundCode || ex.IsCollectionNotFound)
                        {
                            // Already gone.
                        }
                    }, s), token);
                }, ct);
                break;
        }
    }

    /// <summary>
    /// The pack's changes whose collection and partition are on the target, waiting a while for ones the metadata
    /// watch has not created yet. Changes of a collection that never appears are dropped with a warning.
    /// </summary>
    private async Task<IReadOnlyList<SourceChange>> RoutableChangesAsync(ChangePack pack, CancellationToken ct)
    {
        var dml = pack.Changes.Where(RouteTable.IsDml).ToList();
        for (var attempt = 1; ; attempt++)
        {
            foreach (var route in dml.Select(routes.RouteOf).OfType<CollectionRoute>().Distinct().Where(r => dml.Any(c => routes.RouteOf(c) == r && !r.KnowsPartitionOf(c))).ToList())
                await setup.RefreshPartitionsAsync(route, ct);

            var unroutable = dml.Where(c => !routes.CanWrite(c)).ToList();
            if (unroutable.Count == 0) return dml;
            if (attempt >= options.MissingTargetAttempts)
            {
                if (unroutable.FirstOrDefault(c => routes.RouteOf(c) is not null) is { } change)
                    throw ReplicationHalted.Because($"the partition of the {change.Kind} at {change.Origin.Describe()} is not on the target");

                foreach (var lost in unroutable)
                    logger.LogWarning("task {TaskId}: dropped the {Kind} at {Origin}: collection {CollectionId} is not replicated",
                        taskId, lost.Kind, lost.Origin.Describe(), RouteTable.CollectionIdOf(lost));
                return dml.Except(unroutable).ToList();
            }

            await Task.Delay(options.RetryDelay, clock, ct);
        }
    }

    public void Dispose()
    {
        foreach (var writer in _writers.Values) writer.Dispose();
    }
}
