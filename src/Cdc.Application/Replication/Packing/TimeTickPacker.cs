using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Packing;

/// <summary>
/// The time-tick stream of one source pchannel (milvus-io/milvus pkg/mq/msgstream/mq_msgstream.go, MqTtMsgStream): buffers the decoded changes read in order
/// until a TimeTick arrives, then emits one <see cref="ChangePack"/> for the tick. Only Insert, Delete,
/// DropCollection, DropPartition and Import are kept, and only when the task's selection accepts them;
/// CreateCollection, CreatePartition, TimeTick and everything else are dropped (their positions still count for
/// the pack's start). Not thread-safe: one packer per channel reader loop.
/// </summary>
public sealed class TimeTickPacker
{
    private readonly Func<SourceChange, bool> _selects;
    private readonly ISourceMessageIdEncoder _ids;
    private readonly List<SourceChange> _buffer = [];
    private SourceMessageId? _firstId;
    private HybridTimestamp? _earliest;
    private HybridTimestamp? _lastTick;
    private HybridTimestamp? _maxSentAhead;

    /// <param name="channel">The source pchannel every change must come from.</param>
    /// <param name="selects">Whether the task replicates a change (its collection / vchannel is selected).</param>
    /// <param name="ids">Encodes message ids into the position bytes checkpoints keep.</param>
    /// <param name="lastTick">When resuming after a checkpoint: its tick, which the first pack then begins at.</param>
    public TimeTickPacker(string channel, Func<SourceChange, bool> selects, ISourceMessageIdEncoder ids, HybridTimestamp? lastTick = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        Channel = channel;
        _selects = selects ?? throw new ArgumentNullException(nameof(selects));
        _ids = ids ?? throw new ArgumentNullException(nameof(ids));
        _lastTick = lastTick;
    }

    public string Channel { get; }

    /// <summary>The last tick a pack was emitted for, or null before the first.</summary>
    public HybridTimestamp? LastTick => _lastTick;

    /// <summary>Changes waiting for the next tick.</summary>
    public int BufferedCount => _buffer.Count;

    /// <summary>
    /// Whether <paramref name="change"/>, just added, is the only change waiting: everything selected before it in the
    /// current pack's span has gone to the target already (or there was nothing), so it may be sent ahead of the tick.
    /// </summary>
    public bool WaitsAlone(SourceChange change) => _buffer.Count == 1 && ReferenceEquals(_buffer[0], change);

    /// <summary>
    /// Notes that the only waiting change (see <see cref="WaitsAlone"/>) was sent to the target ahead of the tick: it
    /// leaves the pack, which will say <see cref="ChangePack.ClosesSentAhead"/>.
    /// </summary>
    public void SentAhead(SourceChange change)
    {
        if (!WaitsAlone(change))
        {
            throw new InvalidOperationException($"{change.Origin.Describe()} is not the only change waiting on {Channel}");
        }

        _buffer.Clear();
        if (_maxSentAhead is null || change.Timestamp > _maxSentAhead)
        {
            _maxSentAhead = change.Timestamp;
        }
    }

    /// <summary>Whether a change of this kind travels in DML packs at all (before the task's selection).</summary>
    public static bool IsReplicatedKind(ChangeKind kind) => kind is
        ChangeKind.Insert or ChangeKind.Delete or ChangeKind.DropCollection or ChangeKind.DropPartition or ChangeKind.Import;

    /// <summary>Takes the next change of the channel; returns the pack when the change is a time tick, else null.</summary>
    public ChangePack? Add(SourceChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (!string.Equals(change.Origin.Channel, Channel, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"the packer of channel '{Channel}' was given a change from {change.Origin.Describe()}", nameof(change));
        }

        _firstId ??= change.Origin.Id;
        if (change is TimeTickChange tick)
        {
            return Close(tick);
        }

        if (_earliest is null || change.Timestamp < _earliest)
        {
            _earliest = change.Timestamp;
        }

        if (IsReplicatedKind(change.Kind) && _selects(change))
        {
            _buffer.Add(change);
        }

        return null;
    }

    /// <summary>
    /// Notes a message that could not be decoded into a change but was skipped (an unsupported type): it is part of
    /// the next pack's span, so a pack may start at it.
    /// </summary>
    public void Skip(SourceMessageId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        _firstId ??= id;
    }

    private ChangePack Close(TimeTickChange tick)
    {
        var ordered = _buffer
            .OrderBy(c => c.Timestamp)
            .ThenBy(c => c.Kind == ChangeKind.Delete ? 0 : 1)
            .ToList();

        var endTs = tick.Timestamp;
        if (ordered.Count > 0 && ordered[^1].Timestamp > endTs)
        {
            // Milvus never ticks below a message it wrote before the tick; if one does, the tick moves up so the
            // target never sees data above the tick that follows it.
            endTs = ordered[^1].Timestamp;
        }

        if (_maxSentAhead is { } ahead && ahead > endTs)
        {
            endTs = ahead;
        }

        var beginTs = _lastTick ?? Min(_earliest, tick.Timestamp);
        if (beginTs > endTs)
        {
            beginTs = endTs;
        }

        var pack = new ChangePack(
            Channel,
            beginTs,
            endTs,
            ordered,
            new SourcePosition(Channel, _ids.Encode(_firstId!)),
            new SourcePosition(Channel, _ids.Encode(tick.Origin.Id)))
        {
            ClosesSentAhead = _maxSentAhead is not null,
        };

        _buffer.Clear();
        _maxSentAhead = null;
        _firstId = null;
        _earliest = null;
        if (_lastTick is null || endTs > _lastTick)
        {
            _lastTick = endTs;
        }

        return pack;
    }

    private static HybridTimestamp Min(HybridTimestamp? a, HybridTimestamp b) => a is { } x && x < b ? x : b;
}
