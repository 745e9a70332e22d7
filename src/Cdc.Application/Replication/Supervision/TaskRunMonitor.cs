using Cdc.Application.Metrics;
using Cdc.Application.Replication.Packing;
using Cdc.Application.Tasks;
using Cdc.Domain.Changes;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Supervision;

/// <summary>
/// What one run of a task tells the operator: the replicate metrics (time ticks, bytes and rows read and written,
/// buffer fill; the lag gauge follows from the written ticks) and the runtime report behind get's health (the last
/// error being retried and when progress resumed). Reports are kept in memory and written by <see cref="FlushAsync"/>,
/// so a retry loop never waits on the event store.
/// </summary>
/// <remarks>
/// The replicate channel carries no time ticks: its acknowledgements do not feed the lag gauge, which would otherwise
/// grow between two operations while nothing is behind.
/// </remarks>
public sealed class TaskRunMonitor(
    string taskId, string owner, ICdcMetrics metrics, ITaskRuntimeReports reports, TimeProvider clock, ILogger logger,
    string? replicateChannel = null)
{
    private readonly object _gate = new();
    private string? _lastError;
    private DateTimeOffset? _lastErrorAt;
    private DateTimeOffset? _recoveredAt;
    private DateTimeOffset? _stoppedAt;
    private DateTimeOffset? _caughtUpSince;
    private DateTimeOffset? _caughtUpAsOf;
    private readonly HashSet<string> _failing = new(StringComparer.Ordinal);
    private bool _dirty;

    /// <summary>The last error being retried, or null (for tests and logs).</summary>
    public string? LastError
    {
        get { lock (_gate) return _lastError; }
    }

    /// <summary>
    /// Records at once that the task runs (no clean stop yet), so that if this server dies the next run knows it may
    /// send some data twice. Keeps the previous run's last error on show.
    /// </summary>
    public async Task StartedAsync(TaskRuntimeReport? lastRun, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // The previous run's last error stays on show, but nothing of this run is failing yet.
            (_lastError, _lastErrorAt) = (lastRun?.LastError, lastRun?.LastErrorAt);
            _recoveredAt = _lastErrorAt is { } failed && !(lastRun?.RecoveredAt >= failed) ? failed : lastRun?.RecoveredAt;
            _stoppedAt = null;
            // Caught up only once this run has checked it: the previous run's verdict is not carried over.
            (_caughtUpSince, _caughtUpAsOf) = (null, null);
            _dirty = true;
        }

        await FlushAsync(cancellationToken);
    }

    /// <summary>Records a clean stop: every acknowledged position was checkpointed.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stoppedAt = clock.GetUtcNow();
            (_caughtUpSince, _caughtUpAsOf) = (null, null);
            _dirty = true;
        }

        await FlushAsync(cancellationToken);
    }

    /// <summary>Rows sent again after an unclean stop of the previous run.</summary>
    public void Replayed(long rows) => metrics.ReplayedRows(taskId, rows);

    /// <summary>Starts the lag of each channel from its checkpoint, so a restarted task shows how far behind it is.</summary>
    public void Resumed(IEnumerable<ChannelPosition> checkpoints)
    {
        foreach (var checkpoint in checkpoints.Where(c => c.Channel != replicateChannel))
            metrics.ReplicateTimeTick(taskId, checkpoint.Channel, ReplicateOperation.Write, new HybridTimestamp(checkpoint.Timestamp).PhysicalMilliseconds);
    }

    /// <summary>A message read from a source channel (decoded, or null when it is not replicated).</summary>
    public void Read(SourceMessage message, SourceChange? change)
    {
        if (change is null) return;
        metrics.ReplicatedData(taskId, message.Channel, ReplicateOperation.Read, change.Kind.ToString(), message.Payload.Length);
        metrics.ReplicateTimeTick(taskId, message.Channel, ReplicateOperation.Read, change.Timestamp.PhysicalMilliseconds);
        if (change is TimeTickChange) metrics.SourceTimeTick(message.Channel, change.Timestamp.PhysicalMilliseconds);
        Rows(change, ReplicateOperation.Read, "insert");
    }

    /// <summary>
    /// The changes of a pack the target acknowledged; <paramref name="asUpserts"/>: its Inserts were written as Upserts
    /// (apply mode "upsert"), and their rows count with api_type <c>upsert</c>.
    /// </summary>
    public void Written(ChangePack pack, bool asUpserts = false)
    {
        foreach (var change in pack.Changes)
        {
            metrics.ReplicatedData(taskId, pack.Channel, ReplicateOperation.Write, change.Kind.ToString(), change.Payload.Length);
            Rows(change, ReplicateOperation.Write, asUpserts ? "upsert" : "insert");
        }
    }

    /// <summary>A position of a source channel is covered by the target: the channel's lag restarts from its time.</summary>
    public void Acknowledged(string channel, HybridTimestamp timestamp)
    {
        if (channel != replicateChannel) metrics.ReplicateTimeTick(taskId, channel, ReplicateOperation.Write, timestamp.PhysicalMilliseconds);
    }

    /// <summary>
    /// The verdict of a catch-up check: <paramref name="asOf"/> is the time of the source probe whose newest messages
    /// every channel has applied and checkpointed, or null when the task is not caught up (or it cannot be told). The
    /// task counts as caught up since the first of an unbroken run of such verdicts.
    /// </summary>
    public void CaughtUp(DateTimeOffset? asOf)
    {
        lock (_gate)
        {
            if (asOf is null)
            {
                if (_caughtUpSince is null) return;
                (_caughtUpSince, _caughtUpAsOf) = (null, null);
                logger.LogDebug("task {TaskId} is no longer caught up with its source", taskId);
            }
            else
            {
                if (_caughtUpSince is null) logger.LogDebug("task {TaskId} caught up with its source as of {AsOf}", taskId, asOf);
                _caughtUpSince ??= clock.GetUtcNow();
                _caughtUpAsOf = asOf;
            }

            _dirty = true;
        }
    }

    /// <summary>What waits in the reader of a channel.</summary>
    public void Buffer(string channel, long bytes, int messages) => metrics.BufferFill(taskId, channel, bytes, messages);

    /// <summary>One call to the target Milvus.</summary>
    public void ApiCalled(string api) => metrics.ApiExecuted(taskId, api);

    /// <summary>
    /// A failure: shown in get as the last error. With <paramref name="ongoing"/> (what is being retried, e.g. one
    /// pack's write) the task shows as retrying until <see cref="Succeeded"/> is called for every ongoing failure;
    /// without, it is a hiccup that was already dealt with.
    /// </summary>
    public void Failed(string what, Exception error, string? ongoing = null)
    {
        var message = $"{what}: {error.Message}";
        lock (_gate)
        {
            _lastError = message;
            _lastErrorAt = clock.GetUtcNow();
            if (ongoing is not null) _failing.Add(ongoing);
            if (_failing.Count == 0) _recoveredAt = _lastErrorAt;
            _dirty = true;
        }
    }

    /// <summary>What was failing (<see cref="Failed"/>'s <c>ongoing</c>) went through.</summary>
    public void Succeeded(string ongoing)
    {
        lock (_gate)
        {
            if (!_failing.Remove(ongoing) || _failing.Count > 0) return;
            _recoveredAt = clock.GetUtcNow();
            _dirty = true;
        }
    }

    /// <summary>Writes the runtime report if it changed; a failure to write is logged and tried again next time.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        TaskRuntimeReport report;
        lock (_gate)
        {
            if (!_dirty) return;
            report = new TaskRuntimeReport(owner, _lastError, _lastErrorAt, _recoveredAt, clock.GetUtcNow(), _stoppedAt)
            {
                CaughtUpSince = _caughtUpSince,
                CaughtUpAsOf = _caughtUpAsOf,
            };
            _dirty = false;
        }

        try
        {
            await reports.ReportAsync(taskId, report, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            lock (_gate) _dirty = true;
            logger.LogDebug(ex, "could not write the runtime report of task {TaskId}", taskId);
        }
    }

    private void Rows(SourceChange change, ReplicateOperation operation, string insertApi)
    {
        switch (change)
        {
            case InsertChange i:
                metrics.ReplicatedRows(taskId, i.CollectionId, i.CollectionName, operation, insertApi, i.RowCount);
                break;
            case DeleteChange d:
                metrics.ReplicatedRows(taskId, d.CollectionId, d.CollectionName, operation, "delete", d.RowCount);
                break;
        }
    }
}
