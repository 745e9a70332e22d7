using Cdc.Application.EventStore;
using Cdc.Domain.Events;

namespace Cdc.Application.Replication;

/// <summary>How often checkpoints are written and how much of their history is kept.</summary>
public sealed record CheckpointOptions(TimeSpan Interval, int KeepLast = 10, int TrimEvery = 50)
{
    public static CheckpointOptions Default { get; } = new(TimeSpan.FromSeconds(1));
}

/// <summary>
/// Records a task's progress per source channel as <see cref="ChannelCheckpointed"/> events, one stream per
/// (task, channel). The caller reports a position only after the target acknowledged everything up to it (the
/// write-then-checkpoint invariant); the recorder writes it only when it moved and at most once per interval per
/// channel, keeping the newest unwritten one for <see cref="FlushAsync"/>. Old checkpoint events are trimmed so a task
/// that runs for weeks keeps a bounded history. At-least-once: after a crash, at most one interval of acknowledged
/// data is replayed.
/// </summary>
public sealed class CheckpointRecorder(string taskId, IEventStore store, TimeProvider clock, CheckpointOptions? options = null)
{
    private readonly CheckpointOptions _options = options ?? CheckpointOptions.Default;
    private readonly Dictionary<string, ChannelState> _channels = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Checkpoint events written by this recorder (for metrics and tests).</summary>
    public long Written { get; private set; }

    /// <summary>Reports an acknowledged position; writes it now if the interval for its channel has passed.</summary>
    public async Task AcknowledgeAsync(string channel, string position, ulong timestamp, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var state = await StateAsync(channel, cancellationToken);
            if (state.Written == position && state.Pending is null) return;
            state.Pending = (position, timestamp);
            if (clock.GetUtcNow() - state.WrittenAt >= _options.Interval) await WriteAsync(channel, state, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes every pending position (on a timer, and when the task stops).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var (channel, state) in _channels.Where(kv => kv.Value.Pending is not null).ToList())
                await WriteAsync(channel, state, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<ChannelState> StateAsync(string channel, CancellationToken cancellationToken)
    {
        if (_channels.TryGetValue(channel, out var state)) return state;
        var stream = await store.FetchStreamAsync(StreamTypes.ChannelCheckpointStream(taskId, channel), cancellationToken);
        var last = stream.Events.Select(e => e.Data).OfType<ChannelCheckpointed>().LastOrDefault();
        state = new ChannelState { Version = stream.Version, Written = last?.Position, WrittenAt = DateTimeOffset.MinValue };
        _channels[channel] = state;
        return state;
    }

    private async Task WriteAsync(string channel, ChannelState state, CancellationToken cancellationToken)
    {
        var (position, timestamp) = state.Pending!.Value;
        var streamId = StreamTypes.ChannelCheckpointStream(taskId, channel);
        var now = clock.GetUtcNow();
        state.Version = await store.AppendAsync(
            new StreamAppend(streamId, StreamTypes.ChannelCheckpoint, state.Version,
                [new ChannelCheckpointed(taskId, channel, position, timestamp, now)]),
            cancellationToken);
        state.Written = position;
        state.WrittenAt = now;
        state.Pending = null;
        Written++;
        if (state.Version % _options.TrimEvery == 0) await store.TrimStreamAsync(streamId, _options.KeepLast, cancellationToken);
    }

    private sealed class ChannelState
    {
        public long Version;
        public string? Written;
        public DateTimeOffset WrittenAt;
        public (string Position, ulong Timestamp)? Pending;
    }
}
