using Cdc.Application.EventStore;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Cdc.Domain.Events;

namespace Cdc.Application.Replication.Checkpoints;

/// <summary>How often checkpoints are written and how much of their history is kept.</summary>
public sealed record CheckpointOptions(TimeSpan Interval, int KeepLast = 10, int TrimEvery = 50)
{
    public static CheckpointOptions Default { get; } = new(TimeSpan.FromSeconds(1));
}

/// <summary>
/// Records a task's progress per source channel as <see cref="ChannelCheckpointed"/> events, one stream per
/// (task, channel). The caller reports a position only after the target acknowledged everything up to it (the
/// write-then-checkpoint invariant); <see cref="Acknowledge"/> only notes it in memory (and tells the run's monitor,
/// whose lag follows it), so the replication never waits on the event store, and <see cref="FlushAsync"/> (called once
/// per interval by the run, and when it stops) writes the newest position of each channel that moved. Old checkpoint
/// events are trimmed so a task that runs for weeks keeps a bounded history. At-least-once: after a crash, at most one
/// interval of acknowledged data is replayed.
/// </summary>
public sealed class CheckpointRecorder(string taskId, IEventStore store, TimeProvider clock, CheckpointOptions? options = null, TaskRunMonitor? monitor = null)
{
    private readonly CheckpointOptions _options = options ?? CheckpointOptions.Default;
    private readonly object _lock = new();
    private readonly Dictionary<string, (string Position, ulong Timestamp)> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ChannelState> _channels = new(StringComparer.Ordinal); // the flusher's own
    private readonly SemaphoreSlim _flush = new(1, 1);

    /// <summary>How often the run flushes.</summary>
    public TimeSpan Interval => _options.Interval;

    /// <summary>Checkpoint events written by this recorder (for metrics and tests).</summary>
    public long Written { get; private set; }

    /// <summary>
    /// Notes a position of a channel the target acknowledged everything up to, with the source time it stands for; the
    /// next <see cref="FlushAsync"/> writes it.
    /// </summary>
    public void Acknowledge(SourcePosition position, HybridTimestamp timestamp)
    {
        monitor?.Acknowledged(position.Channel, timestamp);
        lock (_lock) _pending[position.Channel] = (position.ToCheckpoint(), timestamp.Value);
    }

    /// <summary>
    /// Writes the newest noted position of each channel that moved since its last checkpoint. What could not be
    /// written stays noted for the next flush (unless a newer position was noted meanwhile).
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flush.WaitAsync(cancellationToken);
        List<KeyValuePair<string, (string Position, ulong Timestamp)>> batch;
        lock (_lock)
        {
            batch = [.. _pending];
            _pending.Clear();
        }

        var done = 0;
        try
        {
            for (; done < batch.Count; done++)
            {
                var (channel, (position, timestamp)) = batch[done];
                var state = await StateAsync(channel, cancellationToken);
                try
                {
                    if (state.Written != position) await WriteAsync(channel, state, position, timestamp, cancellationToken);
                }
                catch (ConcurrencyConflict)
                {
                    _channels.Remove(channel); // read the stream's version again next time
                    throw;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                foreach (var (channel, pending) in batch.Skip(done)) _pending.TryAdd(channel, pending);
            }

            _flush.Release();
        }
    }

    private async Task<ChannelState> StateAsync(string channel, CancellationToken cancellationToken)
    {
        if (_channels.TryGetValue(channel, out var state)) return state;
        var stream = await store.FetchStreamAsync(StreamTypes.ChannelCheckpointStream(taskId, channel), cancellationToken);
        var last = stream.Events.Select(e => e.Data).OfType<ChannelCheckpointed>().LastOrDefault();
        state = new ChannelState { Version = stream.Version, Written = last?.Position };
        _channels[channel] = state;
        return state;
    }

    private async Task WriteAsync(string channel, ChannelState state, string position, ulong timestamp, CancellationToken cancellationToken)
    {
        var streamId = StreamTypes.ChannelCheckpointStream(taskId, channel);
        state.Version = await store.AppendAsync(
            new StreamAppend(streamId, StreamTypes.ChannelCheckpoint, state.Version,
                [new ChannelCheckpointed(taskId, channel, position, timestamp, clock.GetUtcNow())]),
            cancellationToken);
        state.Written = position;
        Written++;
        if (state.Version % _options.TrimEvery == 0) await store.TrimStreamAsync(streamId, StreamTypes.ChannelCheckpoint, _options.KeepLast, cancellationToken);
    }

    private sealed class ChannelState
    {
        public long Version;
        public string? Written;
    }
}
