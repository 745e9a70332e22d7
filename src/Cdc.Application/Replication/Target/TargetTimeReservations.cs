using Cdc.Application.EventStore;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Cdc.Domain.Events;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// The time a task has reserved on its target pchannels, kept as <see cref="TargetTimeReserved"/> events (one stream
/// per task and target channel), so that no run of the task, after a crash, a restart or on another server, sends a
/// timestamp at or below one an earlier run may have sent: Milvus's consumers read a pchannel in time order
/// (milvus-io/milvus pkg/mq/msgstream/mq_msgstream.go, MqTtMsgStream), so a message older than a tick they already
/// consumed is taken out of order or dropped as already seen. Before a message above the reservation goes out, a new
/// one of its timestamp plus <see cref="Margin"/> is written (so about one write per margin of channel time); a run
/// that stops cleanly writes the exact highest timestamp it sent, so the next run does not jump ahead by the margin.
/// </summary>
public sealed class TargetTimeReservations(
    string taskId, IEventStore store, TimeProvider clock, TimeSpan margin, RetryPolicy retry, CheckpointOptions? history = null)
{
    private readonly CheckpointOptions _history = history ?? CheckpointOptions.Default;

    /// <summary>How far beyond what is about to be sent a reservation reaches.</summary>
    public TimeSpan Margin { get; } = margin >= TimeSpan.Zero ? margin : throw new ArgumentOutOfRangeException(nameof(margin), margin, "the margin cannot be negative");

    /// <summary>Reservation writes of this run (for tests and metrics).</summary>
    public long Written => Interlocked.Read(ref _written);

    private long _written;

    /// <summary>The reservation of one target pchannel; its <see cref="TargetChannelWriter"/> serializes its use.</summary>
    public TargetTimeReservation For(string targetChannel) => new(this, targetChannel);

    internal string TaskId => taskId;

    internal IEventStore Store => store;

    internal TimeProvider Clock => clock;

    internal RetryPolicy Retry => retry;

    internal CheckpointOptions History => _history;

    internal void CountWrite() => Interlocked.Increment(ref _written);
}

/// <summary>
/// The reserved time of one target pchannel of a task (see <see cref="TargetTimeReservations"/>). Not thread-safe: the
/// channel's <see cref="TargetChannelWriter"/> serializes its use.
/// </summary>
public sealed class TargetTimeReservation
{
    private readonly TargetTimeReservations _owner;
    private readonly string _streamId;
    private long _version;

    internal TargetTimeReservation(TargetTimeReservations owner, string targetChannel)
    {
        _owner = owner;
        TargetChannel = targetChannel;
        _streamId = StreamTypes.TargetTimeStream(owner.TaskId, targetChannel);
    }

    public string TargetChannel { get; }

    /// <summary>The reservation written last (Zero when there is none).</summary>
    public HybridTimestamp Reserved { get; private set; } = HybridTimestamp.Zero;

    /// <summary>
    /// Reads the channel's last reservation (retried until the event store answers): what this run must send above, or
    /// null when the task never reserved time on the channel.
    /// </summary>
    public async Task<HybridTimestamp?> LoadAsync(CancellationToken cancellationToken)
    {
        await _owner.Retry.RunAsync($"read the time reserved on {TargetChannel}", ReadAsync, cancellationToken, RetryOn.AnyFailure);
        return _version > 0 ? Reserved : null;
    }

    /// <summary>
    /// Makes sure the reservation covers <paramref name="upTo"/> before anything up to it is sent: when it does not, a
    /// new one of <paramref name="upTo"/> plus the margin is written first (retried until the event store takes it; the
    /// send waits, and get shows the task retrying meanwhile).
    /// </summary>
    public async Task CoverAsync(HybridTimestamp upTo, HybridTimestamp sent, CancellationToken cancellationToken)
    {
        if (upTo <= Reserved) return;
        var reservation = new HybridTimestamp(checked(upTo.Value + ((ulong)_owner.Margin.TotalMilliseconds << HybridTimestamp.LogicalBits)));
        await _owner.Retry.RunAsync($"reserve target time on {TargetChannel}", async ct =>
        {
            while (upTo > Reserved)
            {
                try
                {
                    await AppendAsync(reservation, sent, ct);
                }
                catch (ConcurrencyConflict)
                {
                    await ReadAsync(ct); // written elsewhere meanwhile: keep the higher of the two
                }
            }
        }, cancellationToken, RetryOn.AnyFailure);
    }

    /// <summary>
    /// At a clean stop: lowers the reservation to <paramref name="highestSent"/>, the highest timestamp this run sent
    /// (or tried to), so the next run continues right above it. Not retried, and skipped when the stream moved since
    /// (another run reserved meanwhile): the reservation then stays as high as it was, which is safe.
    /// </summary>
    public async Task SettleAsync(HybridTimestamp highestSent, CancellationToken cancellationToken)
    {
        if (_version == 0 || highestSent >= Reserved) return;
        try
        {
            await AppendAsync(highestSent, highestSent, cancellationToken);
        }
        catch (ConcurrencyConflict)
        {
        }
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        var stream = await _owner.Store.FetchStreamAsync(_streamId, cancellationToken);
        _version = stream.Version;
        Reserved = stream.Events.Select(e => e.Data).OfType<TargetTimeReserved>().LastOrDefault() is { } last
            ? new HybridTimestamp(last.Timestamp)
            : HybridTimestamp.Zero;
    }

    private async Task AppendAsync(HybridTimestamp reservation, HybridTimestamp sent, CancellationToken cancellationToken)
    {
        _version = await _owner.Store.AppendAsync(new StreamAppend(_streamId, StreamTypes.TargetTime, _version,
            [new TargetTimeReserved(_owner.TaskId, TargetChannel, reservation.Value, sent.Value, _owner.Clock.GetUtcNow())]), cancellationToken);
        Reserved = reservation;
        _owner.CountWrite();
        if (_version % _owner.History.TrimEvery != 0) return;
        try
        {
            // The newest reservation stays an event of its own (at least one is kept), so a read finds it.
            await _owner.Store.TrimStreamAsync(_streamId, StreamTypes.TargetTime, Math.Max(1, _owner.History.KeepLast), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The reservation is written; the stream is trimmed at a later write.
        }
    }
}
