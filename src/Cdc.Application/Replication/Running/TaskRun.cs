using System.Collections.Concurrent;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// One run of one task's replication: wires its stages (<see cref="TaskRunStages"/>) and runs their loops until it is
/// stopped or halted.
/// <list type="number">
/// <item>the selected collections (and their partitions) of the source's metadata are created on the target and
/// routed;</item>
/// <item>the replicate channel and every source pchannel of those collections are opened where they start (the
/// replicate channel first: once a pack of a pchannel reached the target, every channel of the task is being read),
/// then each is read by its loop (<see cref="ReplicateChannelLoop"/>, <see cref="DmlChannelLoop"/>);</item>
/// <item>the metadata is watched (<see cref="MetadataWatchLoop"/>): new collections are routed, and their pchannels
/// read;</item>
/// <item>checkpoints and the runtime report are written once per interval, and when the run stops; each time, once
/// every channel is read, whether the task has caught up with its source is checked (<see cref="CatchUpCheck"/>)
/// and reported.</item>
/// </list>
/// A loop's failure that the stages could not retry through halts the run (<see cref="ReplicationHalted"/>; the task
/// is then paused with its reason); cancellation stops every loop and flushes the checkpoints.
/// </summary>
internal sealed class TaskRun(TaskRunContext context, TaskRunStages stages, TaskReplicationOptions options, TimeProvider clock, ILogger logger)
{
    private readonly List<Task> _loops = [];
    private readonly ConcurrentDictionary<string, byte> _readChannels = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<ReplicationHalted> _halted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CatchUpCheck _catchUp = new(context.TaskId, stages.Reading.ReaderOf, clock, logger);
    private volatile bool _reading; // every channel known at the start has its loop
    private CancellationToken _ct;
    private CancellationToken _inFlight;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // An operation already sent to the target when the run stops is given this long to be answered (and then
        // checkpointed), so that a pause right after it does not send it again on resume.
        using var inFlight = new CancellationTokenSource();
        var ct = _ct = stop.Token;
        _inFlight = inFlight.Token;
        var notStarted = new List<ISourceChannelReader>();
        stages.Monitor.Resumed(context.Checkpoints);
        try
        {
            await stages.Monitor.StartedAsync(context.LastRun, ct);
            Start(() => FlushLoopAsync(ct));

            // Whatever stands between us and the metadata store (down, refusing our credentials) is retried, shown in
            // get, until it is mended or the task is paused.
            var snapshot = await stages.Retry.RunAsync("load the source metadata", stages.Metadata.LoadAsync, ct, RetryOn.AnyFailure);
            foreach (var collection in snapshot.CreatedCollections.Where(stages.Routes.Selects))
                await stages.Setup.AddAsync(collection, snapshot.CreatedPartitionsOf(collection.Id).ToList(), snapshot.Revision, ct);

            var replicateStart = stages.Starts.ReplicateChannel();
            var replicate = await stages.Reading.OpenAsync(options.ReplicateChannel, replicateStart.Start, ct);
            notStarted.Add(replicate);
            _readChannels[options.ReplicateChannel] = 0;
            var opened = new List<(string Channel, ChannelStart Start, ISourceChannelReader Reader)>();
            foreach (var pchannel in stages.Routes.SourcePhysicalChannels)
            {
                _readChannels[pchannel] = 0;
                var start = stages.Starts.DmlChannel(pchannel, stages.Routes);
                opened.Add((pchannel, start, await stages.Reading.OpenAsync(pchannel, start.Start, ct)));
                notStarted.Add(opened[^1].Reader);
            }

            notStarted.Clear(); // from here on each loop disposes its reader
            Start(() => new ReplicateChannelLoop(stages, context.TaskId, logger).RunAsync(options.ReplicateChannel, replicateStart, replicate, ct, inFlight.Token));
            foreach (var (pchannel, start, reader) in opened)
                Start(() => new DmlChannelLoop(stages).RunAsync(pchannel, start, reader, ct, inFlight.Token));
            Start(() => new MetadataWatchLoop(stages, context.TaskId, clock, logger, ReadChannel).RunAsync(snapshot, ct));
            _reading = true;
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
            inFlight.CancelAfter(InFlightGrace);
            await stop.CancelAsync();
            foreach (var reader in notStarted) await reader.DisposeAsync();
            await StopAsync();
        }

        if (_halted.Task.IsCompleted) throw await _halted.Task;
        cancellationToken.ThrowIfCancellationRequested();
        throw new ReplicationHalted("the replication stopped unexpectedly");
    }

    /// <summary>Reads a pchannel that no loop reads yet (a collection created while the task runs lives on it).</summary>
    private void ReadChannel(string pchannel, ChannelStart start)
    {
        if (!_readChannels.TryAdd(pchannel, 0)) return;
        logger.LogInformation("task {TaskId}: reading {Channel}", context.TaskId, pchannel);
        Start(() => new DmlChannelLoop(stages).RunAsync(pchannel, start, null, _ct, _inFlight));
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

        using var flush = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await stages.Writer.SettleAsync(flush.Token);
        }
        catch (Exception ex)
        {
            // The reservations stay where they were: the next run starts above them (ahead by at most the margin).
            logger.LogWarning(ex, "could not write the time sent on the target channels of task {TaskId}", context.TaskId);
        }

        try
        {
            await stages.Checkpoints.FlushAsync(flush.Token);
            await stages.Monitor.StoppedAsync(flush.Token);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "could not write the last checkpoints of task {TaskId}", context.TaskId);
        }

        stages.Writer.Dispose();
    }

    /// <summary>Runs a loop of the task; its failure halts the run (cancellation is a normal end).</summary>
    private void Start(Func<Task> loop)
    {
        var ct = _ct;
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
                _halted.TrySetResult(ReplicationHalted.Because(ex.Message, ex));
            }
        }, CancellationToken.None);
        lock (_loops) _loops.Add(task);
    }

    /// <summary>How long a stopping run waits for an operation the target is answering (see <see cref="ReplicateChannelLoop"/>).</summary>
    private static readonly TimeSpan InFlightGrace = TimeSpan.FromSeconds(5);

    /// <summary>How long the check of the source's newest messages waits for the MQ.</summary>
    private static readonly TimeSpan CatchUpProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Every channel the task reads, once the channels known at its start all have their loop; none before.</summary>
    private IReadOnlyCollection<string> ReadChannels() => _reading ? [.. _readChannels.Keys] : [];

    private async Task FlushLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(options.Checkpoints.Interval, clock, ct);
            // What each channel completed, taken before the flush: once it succeeds, all of it is checkpointed.
            var completed = stages.Reading.Completed();
            var checkpointed = false;
            try
            {
                await stages.Checkpoints.FlushAsync(ct);
                stages.Monitor.Succeeded("checkpoints");
                checkpointed = true;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // The positions stay noted: the next flush writes them (or the newer ones).
                logger.LogWarning(ex, "task {TaskId}: writing the checkpoints failed, again in {Interval}", context.TaskId, options.Checkpoints.Interval);
                stages.Monitor.Failed("write the checkpoints", ex, ongoing: "checkpoints");
            }

            var channels = ReadChannels();
            stages.Monitor.CaughtUp(checkpointed ? _catchUp.Check(channels, completed) : null);
            stages.Reading.ReportBuffers();
            await stages.Monitor.FlushAsync(ct);
            await _catchUp.ProbeAsync(channels, CatchUpProbeTimeout, ct);
        }
    }
}
