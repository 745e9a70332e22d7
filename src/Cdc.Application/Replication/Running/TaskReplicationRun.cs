using System.Collections.Concurrent;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Decoding;
using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// One run of one task's replication:
/// <list type="number">
/// <item>the selected collections (and their partitions) of the source's metadata are created on the target, and
/// each gets a <see cref="CollectionRoute"/> (target ids, shard pairs, partitions);</item>
/// <item>the replicate channel and every source pchannel of those collections are read from their checkpoint (else
/// the latest message); DML is packed per time tick, split per target pchannel and written with one
/// <see cref="TargetChannelWriter"/> per target pchannel, an Insert or Delete ahead of its tick when that changes
/// nothing the target's consumers see (<see cref="SendAheadAsync"/>); a pack is checkpointed once every part was
/// acknowledged, a change sent ahead once nothing before it waits;
/// operations of the replicate channel are applied one by one and checkpointed each;</item>
/// <item>DropCollection / DropPartition read on the DML channels are applied to the target once every shard carried
/// them (<see cref="DropCoordinator"/>), after the DML of their pack;</item>
/// <item>the metadata is watched: new collections and partitions are created on the target, and a new collection on
/// a pchannel not read yet starts a reader at the collection's start position.</item>
/// </list>
/// Transient failures (retryable target errors, source channel errors, an unreachable metadata store) are retried with
/// backoff, keeping the pack, and reported to the <see cref="TaskRunMonitor"/> (get shows the last one). An undecodable
/// message or a failure that cannot be retried ends the run with <see cref="ReplicationHalted"/>. Cancellation stops
/// every loop and flushes the checkpoints.
/// </summary>
internal sealed class TaskReplicationRun(
    TaskRunContext context,
    IMilvusTarget target,
    ISourceMetadata metadata,
    ISourceChannels channels,
    IChangeDecoder decoder,
    ISourceMessageIdEncoder ids,
    IDmlMessageRewriter rewriter,
    IControlMessageFactory control,
    CheckpointRecorder recorder,
    TaskRunMonitor monitor,
    TimeProvider clock,
    ILogger logger,
    TaskReplicationOptions options,
    ISourcePositionCodec? positions = null)
{
    private const string HaltPrefix = "fail to handle replicate message, err: ";

    private readonly CollectionSelection _selection = context.Definition.Selection;
    private readonly TargetOperationApplier _applier = new(
        target, context.Definition.Selection, clock, logger, options.OperationWait, context.Definition.Target.IgnorePartition);
    private readonly ConcurrentDictionary<long, CollectionRoute> _routes = new();
    private readonly ConcurrentDictionary<string, TargetChannelWriter> _writers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _readChannels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ISourceChannelReader> _readers = new(StringComparer.Ordinal);
    private readonly DropCoordinator _drops = new();
    private readonly ConcurrentDictionary<string, long> _replayUntil = new(StringComparer.Ordinal);
    private int _routesVersion; // moves after every change of _routes
    private volatile Feeders? _feeders;

    /// <summary>How many source pchannels write to each target pchannel, as of a version of the routes.</summary>
    private sealed record Feeders(int Version, Dictionary<string, int> Count);
    private readonly List<Task> _loops = [];
    private readonly TaskCompletionSource<ReplicationHalted> _halted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ct = stop.Token;
        var notStarted = new List<ISourceChannelReader>();
        monitor.Resumed(context.Checkpoints);
        try
        {
            await monitor.StartedAsync(context.LastRun, ct);
            ExpectReplays();
            Start(() => FlushLoopAsync(ct), ct); // checkpoints, buffer fill and the runtime report, from the start

            // Whatever stands between us and the metadata store (down, refusing our credentials) is retried, shown
            // in get, until it is mended or the task is paused.
            var snapshot = await RetryAsync("load the source metadata", metadata.LoadAsync, ct, Retry.Always);
            foreach (var collection in snapshot.CreatedCollections.Where(Selected))
                await AddCollectionAsync(collection, snapshot.CreatedPartitionsOf(collection.Id).ToList(), snapshot.Revision, ct);

            // Readers are opened before any loop runs, the replicate channel first: once a pack of a pchannel reached
            // the target, every channel of the task is being read.
            var replicate = await OpenAsync(options.ReplicateChannel, StartOf(options.ReplicateChannel, RequestedReplicateStart()).Start, ct);
            notStarted.Add(replicate);
            _readChannels[options.ReplicateChannel] = 0;
            var opened = new List<(string Channel, ISourceChannelReader Reader)>();
            foreach (var pchannel in _routes.Values.SelectMany(r => r.SourcePhysicalChannels).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                _readChannels[pchannel] = 0;
                opened.Add((pchannel, await OpenAsync(pchannel, StartOf(pchannel, InitialStart(pchannel)).Start, ct)));
                notStarted.Add(opened[^1].Reader);
            }

            notStarted.Clear(); // from here on each loop disposes its reader

            Start(() => ReplicateChannelLoopAsync(replicate, ct), ct);
            foreach (var (pchannel, reader) in opened)
            {
                var start = StartOf(pchannel, InitialStart(pchannel));
                Start(() => DmlChannelLoopAsync(pchannel, start.Start, start.LastTick, reader, ct), ct);
            }

            Start(() => WatchLoopAsync(snapshot, ct), ct);
            await Task.WhenAny(_halted.Task, Task.Delay(Timeout.Infinite, ct));
        }
        catch (ReplicationHalted halted)
        {
            _halted.TrySetResult(halted);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _halted.TrySetResult(new ReplicationHalted($"fail to start the replication, err: {ex.Message}", ex));
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var reader in notStarted) await reader.DisposeAsync();
            await StopAsync();
        }

        if (_halted.Task.IsCompleted) throw await _halted.Task;
        cancellationToken.ThrowIfCancellationRequested();
        throw new ReplicationHalted("the replication stopped unexpectedly");
    }

    private async Task StopAsync()
    {
        // A loop may start another (a new collection's channel) while stopping: wait until none is left running.
        while (true)
        {
            Task[] loops;
            lock (_loops) loops = [.. _loops.Where(l => !l.IsCompleted)];
            if (loops.Length == 0) break;
            await Task.WhenAll(loops); // each loop catches its own failure
        }

        try
        {
            using var flush = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await recorder.FlushAsync(flush.Token);
            await monitor.StoppedAsync(flush.Token);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "could not write the last checkpoints of task {TaskId}", context.TaskId);
        }

        foreach (var writer in _writers.Values) writer.Dispose();
    }

    /// <summary>Runs a loop of the task; its failure halts the run (cancellation is a normal end).</summary>
    private void Start(Func<Task> loop, CancellationToken ct)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await loop();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            catch (ReplicationHalted halted)
            {
                _halted.TrySetResult(halted);
            }
            catch (Exception ex)
            {
                _halted.TrySetResult(new ReplicationHalted(HaltPrefix + ex.Message, ex));
            }
        }, CancellationToken.None);
        lock (_loops) _loops.Add(task);
    }

    // ---- setup -------------------------------------------------------------------------------------------------

    /// <summary>
    /// After an unclean stop, the previous run may have sent packs past each checkpoint until it would have written
    /// the next one, one checkpoint interval later: packs ending within that interval of source time are counted as
    /// possibly sent twice (an estimate that assumes the lag did not change in that interval).
    /// </summary>
    private void ExpectReplays()
    {
        if (!context.AfterUncleanStop || context.Checkpoints.Count == 0) return;
        foreach (var checkpoint in context.Checkpoints)
            _replayUntil[checkpoint.Channel] = new HybridTimestamp(checkpoint.Timestamp).PhysicalMilliseconds + (long)options.Checkpoints.Interval.TotalMilliseconds;
        logger.LogWarning("task {TaskId}: the previous run did not stop cleanly; up to {Interval} of data per channel after the checkpoints may be sent twice",
            context.TaskId, options.Checkpoints.Interval);
    }

    /// <summary>Counts the rows of a pack written again after an unclean stop.</summary>
    private void CountReplay(ChangePack pack)
    {
        if (!_replayUntil.TryGetValue(pack.Channel, out var until)) return;
        if (pack.EndTs.PhysicalMilliseconds > until)
        {
            _replayUntil.TryRemove(pack.Channel, out _);
            return;
        }

        var rows = pack.Changes.Sum(c => c switch { InsertChange i => i.RowCount, DeleteChange d => d.RowCount, _ => 0 });
        if (rows > 0) monitor.Replayed(rows);
    }

    private bool Selected(SourceCollection collection) => _selection.Covers(collection.DbName, collection.Name);

    private (SourceChannelStart Start, HybridTimestamp? LastTick) StartOf(string channel, SourceChannelStart otherwise)
    {
        var checkpoint = context.Checkpoints.LastOrDefault(c => c.Channel == channel);
        if (checkpoint is null) return (otherwise, null);
        byte[] id;
        try
        {
            id = Convert.FromBase64String(checkpoint.Position);
        }
        catch (FormatException ex)
        {
            throw new ReplicationHalted($"{HaltPrefix}the checkpoint of channel {channel} is not base64: '{checkpoint.Position}'", ex);
        }

        return (SourceChannelStart.After(new SourcePosition(channel, id)), new HybridTimestamp(checkpoint.Timestamp));
    }

    /// <summary>
    /// Where the replicate channel starts without a checkpoint: after <c>rpc_channel_info.position</c> of the create
    /// request (exclusive, like every seek), else at the latest message.
    /// </summary>
    private SourceChannelStart RequestedReplicateStart()
    {
        if (context.Definition.RpcChannel?.Position is not { Length: > 0 } requested) return SourceChannelStart.Latest;
        if (positions is null) throw new ReplicationHalted($"{HaltPrefix}rpc_channel_info.position is set but this server cannot read positions");
        try
        {
            return SourceChannelStart.After(new SourcePosition(options.ReplicateChannel, positions.Decode(requested).MessageId));
        }
        catch (FormatException ex)
        {
            throw new ReplicationHalted($"{HaltPrefix}fail to decode the position data: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Where a pchannel without checkpoint starts: the start position of its earliest-created collection whose
    /// selection entry says <c>use_start_position</c>, else the latest message.
    /// </summary>
    private SourceChannelStart InitialStart(string pchannel)
    {
        var first = _routes.Values
            .Where(r => UsesStartPosition(r.Source) && r.Source.StartPositions.ContainsKey(pchannel))
            .OrderBy(r => r.Source.CreatedTimestamp)
            .FirstOrDefault();
        return first is null
            ? SourceChannelStart.Latest
            : SourceChannelStart.After(new SourcePosition(pchannel, first.Source.StartPositions[pchannel]));
    }

    /// <summary>Whether the selection entry of a collection (its own name before <c>*</c>) asks for its start position.</summary>
    private bool UsesStartPosition(SourceCollection collection)
    {
        var database = CollectionSelection.DatabaseOrDefault(collection.DbName);
        IEnumerable<CollectionInfo> infos = _selection.CollectionInfos is { } list
            ? database == CollectionSelection.DefaultDatabase ? list : []
            : (_selection.DbCollections ?? new Dictionary<string, IReadOnlyList<CollectionInfo>>())
                .Where(kv => kv.Key == database || kv.Key == CollectionInfo.All)
                .OrderBy(kv => kv.Key == CollectionInfo.All)
                .SelectMany(kv => kv.Value);
        var info = infos.Where(i => i.Name == collection.Name || i.Name == CollectionInfo.All)
            .OrderBy(i => i.Name == CollectionInfo.All)
            .FirstOrDefault();
        return info?.UseStartPosition ?? false;
    }

    private Task<ISourceChannelReader> OpenAsync(string channel, SourceChannelStart start, CancellationToken ct) =>
        RetryAsync($"open the source channel {channel}", token => channels.OpenReaderAsync(channel, start, token), ct);

    /// <summary>Creates the collection and its partitions on the target (idempotent) and routes its DML.</summary>
    private async Task<CollectionRoute> AddCollectionAsync(
        SourceCollection collection, IReadOnlyList<SourcePartition> partitions, long revision, CancellationToken ct)
    {
        await RetryAsync($"create collection {collection.Name}", token => _applier.ApplyAsync(new CollectionCreated(revision, collection), token), ct);
        foreach (var partition in partitions)
        {
            await RetryAsync($"create partition {partition.Name} of {collection.Name}",
                token => _applier.ApplyAsync(new PartitionCreated(revision, partition, collection.DbName, collection.Name), token), ct);
        }

        var database = CollectionSelection.DatabaseOrDefault(collection.DbName);
        var described = await RetryAsync($"describe collection {collection.Name}", token => target.DescribeCollectionAsync(database, collection.Name, token), ct)
            ?? throw new ReplicationHalted($"{HaltPrefix}collection {database}.{collection.Name} is not on the target after it was created");
        var targetPartitions = await RetryAsync($"show the partitions of {collection.Name}", token => target.ShowPartitionsAsync(database, collection.Name, token), ct);
        CollectionRoute route;
        try
        {
            route = new CollectionRoute(collection, described, targetPartitions);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new ReplicationHalted($"{HaltPrefix}cannot pair the shards of collection {database}.{collection.Name}: {ex.Message}", ex);
        }

        _routes[collection.Id] = route;
        Interlocked.Increment(ref _routesVersion);
        logger.LogInformation("task {TaskId} replicates collection {Database}.{Collection} ({SourceId} → {TargetId})",
            context.TaskId, database, collection.Name, collection.Id, described.CollectionId);
        return route;
    }

    // ---- the channels ------------------------------------------------------------------------------------------

    /// <summary>
    /// Reads one channel, reopening it after the last handled position when the source fails; <paramref name="handle"/>
    /// returns the position a message completed (or null while it is still buffered), <paramref name="reset"/> drops
    /// what was buffered before a reopen. A channel opened at the latest message is checkpointed at once where it
    /// starts, so neither a reopen nor a server that dies before the first pack moves on to a later "latest".
    /// </summary>
    private async Task ReadAsync(
        string channel, SourceChannelStart start, ISourceChannelReader? opened,
        Func<SourceMessage, CancellationToken, Task<SourcePosition?>> handle, Action reset, CancellationToken ct)
    {
        var delay = options.RetryDelay;
        while (true)
        {
            var reader = opened;
            opened = null;
            try
            {
                reader ??= await channels.OpenReaderAsync(channel, start, ct);
                _readers[channel] = reader;
                if (start is SourceChannelStart.LatestStart && reader.StartsAfter is { } origin)
                {
                    start = SourceChannelStart.After(origin);
                    await AcknowledgeAsync(channel, origin, HybridTimestamp.FromTime(clock.GetUtcNow()), ct);
                    // Written before the first message is handled (the event store's hiccups retried a few times).
                    await RetryAsync($"checkpoint where {channel} starts", async token =>
                    {
                        await recorder.FlushAsync(token);
                        return true;
                    }, ct, Retry.Bounded);
                }

                await foreach (var message in reader.ReadAllAsync(ct))
                {
                    if (await handle(message, ct) is { } done)
                    {
                        start = SourceChannelStart.After(done);
                        if (delay != options.RetryDelay) monitor.Succeeded($"read {channel}");
                        delay = options.RetryDelay;
                    }

                    monitor.Buffer(channel, reader.BufferedBytes, reader.BufferedMessages);
                }

                ct.ThrowIfCancellationRequested();
                throw new SourceChannelException(channel, "the reader ended");
            }
            catch (SourceChannelException ex) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "task {TaskId}: reading {Channel} failed, reopening in {Delay}", context.TaskId, channel, delay);
                monitor.Failed($"read the source channel {channel}", ex, ongoing: $"read {channel}");
                reset();
                await Task.Delay(delay, clock, ct);
                delay = Next(delay);
            }
            finally
            {
                _readers.TryRemove(KeyValuePair.Create(channel, reader!));
                if (reader is not null) await reader.DisposeAsync();
            }
        }
    }

    private async Task DmlChannelLoopAsync(
        string pchannel, SourceChannelStart start, HybridTimestamp? lastTick, ISourceChannelReader? opened, CancellationToken ct)
    {
        var packer = new TimeTickPacker(pchannel, Selects, ids, lastTick);
        await ReadAsync(pchannel, start, opened, async (message, token) =>
        {
            var decoded = decoder.Decode(message);
            monitor.Read(message, decoded.Change);
            if (decoded.Change is not { } change)
            {
                if (!decoded.IsUnsupported) throw Undecodable(decoded, message);
                packer.Skip(message.Id);
                return null;
            }

            if (packer.Add(change) is not { } pack) return await SendAheadAsync(packer, change, token);
            await WritePackAsync(pack, token);
            await AcknowledgeAsync(pchannel, pack.EndPosition, pack.EndTs, token);
            return pack.EndPosition;
        }, () => packer = new TimeTickPacker(pchannel, Selects, ids, packer.LastTick), ct);
    }

    /// <summary>
    /// Sends an Insert or Delete to the target as soon as it is read, ahead of the tick that closes its pack, when
    /// that changes nothing the target's consumers see: everything selected before it in the pack's span went ahead
    /// too, its collection and partition are on the target, its target pchannel is fed by this source pchannel alone,
    /// and that channel's timestamps need no shift. The target's consumers take what was written up to the next tick
    /// as one pack in the order written, as the source's own consumers read the source channel, and that tick follows
    /// in the closing pack at once. A change that cannot go ahead waits for its pack, and so does the rest of the span.
    /// Returns the change's position, now a checkpoint (with the span's tick), or null.
    /// </summary>
    private async Task<SourcePosition?> SendAheadAsync(TimeTickPacker packer, SourceChange change, CancellationToken ct)
    {
        if (!options.SendDmlAhead || !IsDml(change) || packer.LastTick is not { } lastTick || change.Timestamp <= lastTick
            || !packer.WaitsAlone(change) || !_routes.TryGetValue(CollectionIdOf(change), out var route) || !route.KnowsPartitionOf(change))
            return null;

        var targetChannel = route.TargetPhysicalChannelOf(change);
        if (!FedByOneSource(targetChannel)) return null;

        var position = new SourcePosition(packer.Channel, ids.Encode(change.Origin.Id));
        var ahead = new ChangePack(packer.Channel, lastTick, change.Timestamp, [change], position, position);
        if (!await RetryAsync($"write the {change.Kind} at {change.Origin.Describe()} ahead of its tick",
                t => Writer(targetChannel).TryWriteAheadAsync(ahead, t), ct))
            return null;

        packer.SentAhead(change);
        monitor.Written(ahead);
        CountReplay(ahead);
        await AcknowledgeAsync(packer.Channel, position, lastTick, ct);
        return position;
    }

    /// <summary>Whether a single source pchannel of the task (the caller's) writes to <paramref name="targetChannel"/>.</summary>
    private bool FedByOneSource(string targetChannel)
    {
        // Rebuilt after the routes change (a collection added or dropped), not per message.
        var feeders = _feeders;
        var version = Volatile.Read(ref _routesVersion);
        if (feeders is null || feeders.Version != version)
        {
            feeders = new Feeders(version, _routes.Values
                .SelectMany(r => r.SourcePhysicalChannels.SelectMany(source => r.TargetPhysicalChannelsOf(source).Select(target => (target, source))))
                .GroupBy(p => p.target, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(p => p.source).Distinct(StringComparer.Ordinal).Count(), StringComparer.Ordinal));
            _feeders = feeders;
        }

        return feeders.Count.TryGetValue(targetChannel, out var count) && count == 1;
    }

    private async Task ReplicateChannelLoopAsync(ISourceChannelReader opened, CancellationToken ct)
    {
        var channel = options.ReplicateChannel;
        await ReadAsync(channel, StartOf(channel, RequestedReplicateStart()).Start, opened, async (message, token) =>
        {
            var decoded = decoder.Decode(message);
            monitor.Read(message, decoded.Change);
            var position = new SourcePosition(channel, ids.Encode(message.Id));
            if (decoded.Change is not { } change)
            {
                if (!decoded.IsUnsupported) throw Undecodable(decoded, message);
                return position;
            }

            var outcome = await RetryAsync($"apply {change.Kind} from {change.Origin.Describe()}", t => _applier.ApplyAsync(change, t), token);
            if (outcome != OperationOutcome.NotSelected)
                logger.LogInformation("task {TaskId}: {Kind} from {Origin}: {Outcome}", context.TaskId, change.Kind, change.Origin.Describe(), outcome);
            await AcknowledgeAsync(channel, position, change.Timestamp, token);
            return position;
        }, () => { }, ct);
    }

    private static string Describe(SourcePosition position) =>
        $"position {Convert.ToBase64String(position.MessageId.Span)} (0x{Convert.ToHexString(position.MessageId.Span)})";

    private static ReplicationHalted Undecodable(ChangeDecodeResult decoded, SourceMessage message) =>
        new(HaltPrefix + (decoded.Failure?.ToString() ?? $"cannot decode the message on {message.Describe()}"));

    /// <summary>Whether a change is DML of a selected collection (known, or selected by name and not known yet).</summary>
    private bool Selects(SourceChange change) => change switch
    {
        InsertChange i => _routes.ContainsKey(i.CollectionId) || _selection.Covers(i.DbName, i.CollectionName),
        DeleteChange d => _routes.ContainsKey(d.CollectionId) || _selection.Covers(d.DbName, d.CollectionName),
        DropCollectionChange d => _routes.ContainsKey(d.CollectionId),
        DropPartitionChange d => _routes.ContainsKey(d.CollectionId),
        _ => false,
    };

    private static bool IsDml(SourceChange change) => change is InsertChange or DeleteChange;

    private static long CollectionIdOf(SourceChange change) => change switch
    {
        InsertChange i => i.CollectionId,
        DeleteChange d => d.CollectionId,
        _ => throw new InvalidOperationException($"a {change.Kind} is not replicated as DML"),
    };

    private DmlRewrite TargetIds(SourceChange change) => _routes[CollectionIdOf(change)].Rewrite(change);

    /// <summary>The one writer of a target pchannel, shared by every source pchannel that feeds it.</summary>
    private TargetChannelWriter Writer(string targetChannel)
    {
        if (_writers.TryGetValue(targetChannel, out var writer)) return writer;
        lock (_writers)
        {
            return _writers.GetOrAdd(targetChannel,
                c => new TargetChannelWriter(target, new TargetTimestampRewriter(c, rewriter, control, clock), TargetIds));
        }
    }

    /// <summary>Notes a position the target acknowledged; the flush loop writes the checkpoints.</summary>
    private async Task AcknowledgeAsync(string channel, SourcePosition position, HybridTimestamp timestamp, CancellationToken ct)
    {
        monitor.Acknowledged(channel, timestamp);
        await recorder.AcknowledgeAsync(channel, Convert.ToBase64String(position.MessageId.Span), timestamp.Value, ct);
    }

    /// <summary>
    /// Writes a pack to every target pchannel its source pchannel feeds: the changes of each in their order, a tick to
    /// the others. Parts already acknowledged are not sent again when a later part is retried.
    /// </summary>
    private async Task WritePackAsync(ChangePack pack, CancellationToken ct)
    {
        var changes = await RoutableChangesAsync(pack, ct);
        var byTarget = changes.ToLookup(c => _routes[CollectionIdOf(c)].TargetPhysicalChannelOf(c), StringComparer.Ordinal);
        var targets = _routes.Values.SelectMany(r => r.TargetPhysicalChannelsOf(pack.Channel))
            .Concat(byTarget.Select(g => g.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var parts = targets.Select(t => (Channel: t, Pack: pack with { Changes = [.. byTarget[t]] })).ToList();

        var written = 0;
        await RetryAsync($"write the pack of {pack.Channel} ending at {Describe(pack.EndPosition)}", async token =>
        {
            for (; written < parts.Count; written++)
            {
                await Writer(parts[written].Channel).WriteAsync(parts[written].Pack, token);
                monitor.Written(parts[written].Pack);
            }

            return written;
        }, ct);

        CountReplay(pack);

        // Drops come after the DML of their pack: nothing of a collection follows its drop on a shard.
        foreach (var drop in pack.Changes.Where(c => !IsDml(c)))
            await DropAsync(drop, pack.Channel, ct);
    }

    /// <summary>A DropCollection or DropPartition read on a shard: applied once every shard carried it.</summary>
    private async Task DropAsync(SourceChange drop, string pchannel, CancellationToken ct)
    {
        switch (drop)
        {
            case DropCollectionChange d when _routes.TryGetValue(d.CollectionId, out var route):
                await _drops.ArriveAsync($"collection {d.CollectionId}", [.. route.Source.VirtualChannels], pchannel, d.Origin.VirtualChannel, async token =>
                {
                    await RetryAsync($"drop collection {route.TargetDatabase}.{route.Source.Name} at {d.Origin.Describe()}", async t =>
                    {
                        try
                        {
                            await target.DropCollectionAsync(route.TargetDatabase, route.Source.Name, d.Timestamp, t);
                        }
                        catch (MilvusTargetException ex) when (ex.IsCollectionNotFound)
                        {
                            // Already gone (a drop replayed after a restart).
                        }

                        return true;
                    }, token);
                    _routes.TryRemove(d.CollectionId, out _);
                    Interlocked.Increment(ref _routesVersion);
                    logger.LogInformation("task {TaskId} dropped collection {Database}.{Collection}", context.TaskId, route.TargetDatabase, route.Source.Name);
                }, ct);
                break;
            case DropPartitionChange d when _routes.TryGetValue(d.CollectionId, out var route):
                await _drops.ArriveAsync($"partition {d.CollectionId}/{d.PartitionId}", [.. route.Source.VirtualChannels], pchannel, d.Origin.VirtualChannel, async token =>
                {
                    if (context.Definition.Target.IgnorePartition) return;
                    await RetryAsync($"drop partition {d.PartitionName} of {route.Source.Name} at {d.Origin.Describe()}", async t =>
                    {
                        try
                        {
                            await target.DropPartitionAsync(route.TargetDatabase, route.Source.Name, d.PartitionName, d.Timestamp, t);
                        }
                        catch (MilvusTargetException ex) when (ex.MilvusCode == MilvusTargetException.PartitionNotFoundCode || ex.IsCollectionNotFound)
                        {
                            // Already gone.
                        }

                        return true;
                    }, token);
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
        var dml = pack.Changes.Where(IsDml).ToList();
        for (var attempt = 1; ; attempt++)
        {
            var missingCollections = dml.Where(c => !_routes.ContainsKey(CollectionIdOf(c))).ToList();
            var missingPartitions = dml.Where(c => _routes.TryGetValue(CollectionIdOf(c), out var r) && !r.KnowsPartitionOf(c))
                .Select(c => _routes[CollectionIdOf(c)]).Distinct().ToList();
            foreach (var route in missingPartitions)
            {
                route.UpdatePartitions(await RetryAsync($"show the partitions of {route.Source.Name}",
                    token => target.ShowPartitionsAsync(route.TargetDatabase, route.Source.Name, token), ct));
            }

            var unroutable = dml.Where(c => !_routes.TryGetValue(CollectionIdOf(c), out var r) || !r.KnowsPartitionOf(c)).ToList();
            if (unroutable.Count == 0) return dml;
            if (attempt >= options.MissingTargetAttempts)
            {
                if (missingCollections.Count < unroutable.Count)
                {
                    var change = unroutable.First(c => _routes.ContainsKey(CollectionIdOf(c)));
                    throw new ReplicationHalted($"{HaltPrefix}the partition of the {change.Kind} at {change.Origin.Describe()} is not on the target");
                }

                foreach (var change in unroutable)
                    logger.LogWarning("task {TaskId}: dropped the {Kind} at {Origin}: collection {CollectionId} is not replicated", context.TaskId, change.Kind, change.Origin.Describe(), CollectionIdOf(change));
                return dml.Except(unroutable).ToList();
            }

            await Task.Delay(options.RetryDelay, clock, ct);
        }
    }

    // ---- metadata ----------------------------------------------------------------------------------------------

    private async Task WatchLoopAsync(SourceMetadataSnapshot snapshot, CancellationToken ct)
    {
        var delay = options.RetryDelay;
        while (true)
        {
            try
            {
                await foreach (var change in metadata.WatchAsync(snapshot, ct))
                {
                    await OnMetadataAsync(change, ct);
                    delay = options.RetryDelay;
                }

                ct.ThrowIfCancellationRequested();
            }
            catch (Exception ex) when (ex is not (ReplicationHalted or OperationCanceledException) && !ct.IsCancellationRequested)
            {
                // Watching again from the first snapshot repeats creates, which the target skips as already applied.
                logger.LogWarning(ex, "task {TaskId}: watching the source metadata failed, again in {Delay}", context.TaskId, delay);
                monitor.Failed("watch the source metadata", ex);
                await Task.Delay(delay, clock, ct);
                delay = Next(delay);
            }
        }
    }

    private async Task OnMetadataAsync(SourceMetaEvent change, CancellationToken ct)
    {
        switch (change)
        {
            case CollectionCreated { Collection: var collection } when Selected(collection):
                var route = await AddCollectionAsync(collection, [], change.Revision, ct);
                foreach (var pchannel in route.SourcePhysicalChannels)
                {
                    if (!_readChannels.TryAdd(pchannel, 0)) continue;
                    var start = collection.StartPositions.TryGetValue(pchannel, out var id)
                        ? SourceChannelStart.After(new SourcePosition(pchannel, id))
                        : SourceChannelStart.Latest;
                    var (from, lastTick) = StartOf(pchannel, start);
                    logger.LogInformation("task {TaskId}: reading {Channel} for new collection {Collection}", context.TaskId, pchannel, collection.Name);
                    Start(() => DmlChannelLoopAsync(pchannel, from, lastTick, null, ct), ct);
                }

                break;
            case PartitionCreated created:
                var outcome = await RetryAsync($"create partition {created.Partition.Name}", token => _applier.ApplyAsync(created, token), ct);
                if (outcome != OperationOutcome.NotSelected && _routes.TryGetValue(created.Partition.CollectionId, out var owner))
                {
                    owner.UpdatePartitions(await RetryAsync($"show the partitions of {owner.Source.Name}",
                        token => target.ShowPartitionsAsync(owner.TargetDatabase, owner.Source.Name, token), ct));
                }

                break;
        }
    }

    private async Task FlushLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(options.Checkpoints.Interval, clock, ct);
            try
            {
                await recorder.FlushAsync(ct);
                monitor.Succeeded("checkpoints");
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // The positions stay noted: the next flush writes them (or the newer ones).
                logger.LogWarning(ex, "task {TaskId}: writing the checkpoints failed, again in {Interval}", context.TaskId, options.Checkpoints.Interval);
                monitor.Failed("write the checkpoints", ex, ongoing: "checkpoints");
            }

            foreach (var (channel, reader) in _readers) monitor.Buffer(channel, reader.BufferedBytes, reader.BufferedMessages);
            await monitor.FlushAsync(ct);
        }
    }

    // ---- retries -----------------------------------------------------------------------------------------------

    private TimeSpan Next(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxRetryDelay.Ticks));

    private static bool IsTransient(Exception ex) => ex is MilvusTargetException { IsRetryable: true } or SourceChannelException;

    /// <summary>Which failures <see cref="RetryAsync{T}"/> retries besides the transient ones.</summary>
    private enum Retry
    {
        /// <summary>Only transient failures; any other halts the run.</summary>
        Transient,

        /// <summary>Any failure, up to <see cref="TaskReplicationOptions.MissingTargetAttempts"/> attempts.</summary>
        Bounded,

        /// <summary>Any failure, until it succeeds or the run is stopped.</summary>
        Always,
    }

    /// <summary>
    /// Runs <paramref name="action"/> until it succeeds, retrying transient failures (and others, as
    /// <paramref name="retry"/> says) with backoff; each failure is reported to the monitor. Other failures halt the run.
    /// </summary>
    private async Task<T> RetryAsync<T>(string what, Func<CancellationToken, Task<T>> action, CancellationToken ct, Retry retry = Retry.Transient)
    {
        var delay = options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await action(ct);
                if (attempt > 1) monitor.Succeeded(what);
                return result;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is not (ReplicationHalted or OperationCanceledException)
                                       && (IsTransient(ex) || retry == Retry.Always || (retry == Retry.Bounded && attempt < options.MissingTargetAttempts)))
            {
                logger.LogWarning(ex, "task {TaskId}: {What} failed (attempt {Attempt}), retrying in {Delay}", context.TaskId, what, attempt, delay);
                monitor.Failed($"cannot {what}", ex, ongoing: what);
                await Task.Delay(delay, clock, ct);
                delay = Next(delay);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is not (ReplicationHalted or OperationCanceledException))
            {
                throw new ReplicationHalted($"{HaltPrefix}cannot {what}: {ex.Message}", ex);
            }
        }
    }
}
