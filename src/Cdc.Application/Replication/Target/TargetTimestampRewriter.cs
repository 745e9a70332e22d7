using System.Buffers;
using Cdc.Application.Replication.Packing;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// The timestamp state of one target channel (as zilliztech/milvus-cdc core/reader/replicate_channel_manager.go resets a pack's timestamps). Keeps the highest timestamp sent and prepares
/// each pack so timestamps strictly increase on the channel: when a pack's changes are not above that maximum they
/// are moved to max+1, max+2, ... (changes with equal source timestamps keep equal new timestamps, row timestamps
/// included; the changes are expected in the packer's order, ascending timestamps). Every pack gets the CDC's own TimeTick at its end timestamp; the first pack on the channel also gets one
/// at its begin timestamp. Packs that carry only a tick are sent at most once per <see cref="TimeTickInterval"/>.
/// State only moves when <see cref="Acknowledge"/> is called after the target accepted the request, or when the channel
/// must continue above a time sent elsewhere (<see cref="ContinueAfter"/>, <see cref="AcknowledgeAt"/>). Not
/// thread-safe: its <see cref="TargetChannelWriter"/> serializes use.
/// </summary>
public sealed class TargetTimestampRewriter
{
    public static readonly TimeSpan DefaultTimeTickInterval = TimeSpan.FromMilliseconds(500);

    private readonly IDmlMessageRewriter _rewriter;
    private readonly IControlMessageFactory _control;
    private readonly TimeProvider _time;
    private long? _lastSentAt;

    public TargetTimestampRewriter(
        string targetChannel,
        IDmlMessageRewriter rewriter,
        IControlMessageFactory control,
        TimeProvider time,
        TimeSpan? timeTickInterval = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetChannel);
        TargetChannel = targetChannel;
        _rewriter = rewriter ?? throw new ArgumentNullException(nameof(rewriter));
        _control = control ?? throw new ArgumentNullException(nameof(control));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        TimeTickInterval = timeTickInterval ?? DefaultTimeTickInterval;
        ArgumentOutOfRangeException.ThrowIfLessThan(TimeTickInterval, TimeSpan.Zero, nameof(timeTickInterval));
    }

    /// <summary>The target pchannel.</summary>
    public string TargetChannel { get; }

    public TimeSpan TimeTickInterval { get; }

    /// <summary>The highest timestamp acknowledged on the channel (Zero before the first pack).</summary>
    public HybridTimestamp MaxSent { get; private set; } = HybridTimestamp.Zero;

    /// <summary>Whether a pack has been acknowledged on the channel.</summary>
    public bool HasSent { get; private set; }

    /// <summary>
    /// The request for <paramref name="pack"/>, or null when it need not be sent: a tick-only pack inside the
    /// interval, or one whose tick is not above what was already sent. The pack's checkpoint may be kept either way.
    /// </summary>
    /// <param name="pack">The source pack.</param>
    /// <param name="targetIds">The target ids, shard and names for a change (its Timestamp is set here).</param>
    public PreparedTargetPack? Prepare(ChangePack pack, Func<SourceChange, DmlRewrite> targetIds)
    {
        ArgumentNullException.ThrowIfNull(pack);
        ArgumentNullException.ThrowIfNull(targetIds);

        return pack.IsTimeTickOnly ? PrepareTick(pack) : PrepareChanges(pack, targetIds);
    }

    /// <summary>
    /// Whether changes above <paramref name="lastTick"/> may go to the target ahead of their tick, with their source
    /// timestamps: a pack was sent on the channel (so it has begun with the CDC's first tick) and nothing sent is above
    /// <paramref name="lastTick"/> (no shifted pack), so the pack that closes them will not be shifted either.
    /// </summary>
    public bool AcceptsAhead(HybridTimestamp lastTick) => HasSent && MaxSent <= lastTick;

    /// <summary>
    /// The request for changes sent ahead of their tick (<paramref name="ahead"/>: their span's changes so far, with
    /// their own positions): the changes with their source timestamps and no time tick, since the target's consumers
    /// take what it wrote in up to the next tick as one pack, in the order written, as the source's own consumers do.
    /// Acknowledging it moves nothing: the tick that closes them follows in the pack of their span.
    /// </summary>
    public PreparedTargetPack PrepareAhead(ChangePack ahead, Func<SourceChange, DmlRewrite> targetIds)
    {
        ArgumentNullException.ThrowIfNull(ahead);
        ArgumentNullException.ThrowIfNull(targetIds);
        if (ahead.IsTimeTickOnly || !AcceptsAhead(ahead.BeginTs) || ahead.Changes.Any(c => c.Timestamp <= ahead.BeginTs))
        {
            throw new InvalidOperationException($"changes of {ahead.Channel} cannot be sent ahead of their tick on {TargetChannel}");
        }

        var messages = ahead.Changes.Select(c => _rewriter.Rewrite(c, targetIds(c))).ToList();
        var begin = ahead.Changes.Min(c => c.Timestamp);
        var end = ahead.Changes.Max(c => c.Timestamp);
        return new PreparedTargetPack(Request(ahead, begin, end, messages), ahead.EndPosition, IsTimeTickOnly: false, TimestampsShifted: false)
        {
            IsAhead = true,
        };
    }

    /// <summary>
    /// Continues the channel of an earlier run of the task, which sent nothing above <paramref name="reserved"/> (the
    /// channel's <see cref="TargetTimeReservation"/>): everything this run sends goes above it, replayed changes moved up
    /// like any others, ticks at or below it not sent at all. The channel counts as begun (no leading tick).
    /// </summary>
    public void ContinueAfter(HybridTimestamp reserved)
    {
        if (reserved > MaxSent) MaxSent = reserved;
        HasSent = true;
    }

    /// <summary>
    /// Records that the target accepted something else at <paramref name="timestamp"/> on the channel (a drop, which Milvus
    /// writes to the collection's pchannels): what follows goes above it.
    /// </summary>
    public void AcknowledgeAt(HybridTimestamp timestamp)
    {
        if (timestamp > MaxSent) MaxSent = timestamp;
        HasSent = true;
        _lastSentAt = _time.GetTimestamp();
    }

    /// <summary>Records that the target accepted <paramref name="sent"/>.</summary>
    public void Acknowledge(PreparedTargetPack sent)
    {
        ArgumentNullException.ThrowIfNull(sent);
        if (!string.Equals(sent.Request.ChannelName, TargetChannel, StringComparison.Ordinal))
        {
            throw new ArgumentException($"pack for '{sent.Request.ChannelName}' acknowledged on '{TargetChannel}'", nameof(sent));
        }

        if (sent.IsAhead)
        {
            return;
        }

        if (sent.Request.EndTs > MaxSent)
        {
            MaxSent = sent.Request.EndTs;
        }

        HasSent = true;
        _lastSentAt = _time.GetTimestamp();
    }

    private PreparedTargetPack? PrepareTick(ChangePack pack)
    {
        if (HasSent)
        {
            if (pack.EndTs <= MaxSent)
            {
                return null;
            }

            // A tick that closes changes sent ahead of it goes out at once: they are not visible on the target before.
            if (!pack.ClosesSentAhead && _lastSentAt is { } last && _time.GetElapsedTime(last) < TimeTickInterval)
            {
                return null;
            }
        }

        var begin = HasSent && pack.BeginTs <= MaxSent ? Next(MaxSent, 1) : pack.BeginTs;
        return Build(pack, begin, pack.EndTs, [], shifted: false);
    }

    private PreparedTargetPack PrepareChanges(ChangePack pack, Func<SourceChange, DmlRewrite> targetIds)
    {
        var changes = pack.Changes;
        var shift = HasSent && changes[0].Timestamp <= MaxSent;
        var rewritten = new List<ReadOnlySequence<byte>>(changes.Count);
        HybridTimestamp begin, end;

        if (shift)
        {
            ulong step = 0;
            HybridTimestamp? previous = null;
            var last = MaxSent;
            foreach (var change in changes)
            {
                if (previous != change.Timestamp)
                {
                    step++;
                    previous = change.Timestamp;
                    last = Next(MaxSent, step);
                }

                rewritten.Add(_rewriter.Rewrite(change, targetIds(change) with { Timestamp = last }));
            }

            begin = Next(MaxSent, 1);
            end = pack.EndTs > last ? pack.EndTs : last;
        }
        else
        {
            foreach (var change in changes)
            {
                rewritten.Add(_rewriter.Rewrite(change, targetIds(change)));
            }

            begin = HasSent && pack.BeginTs <= MaxSent ? Next(MaxSent, 1) : pack.BeginTs;
            end = pack.EndTs;

            // The channel's leading tick comes before its first change, strictly: a first pack read without an earlier
            // tick begins at its first change's timestamp, and a change at a tick already consumed is not after it.
            if (!HasSent && begin >= changes[0].Timestamp && changes[0].Timestamp.Value > 0)
            {
                begin = new HybridTimestamp(changes[0].Timestamp.Value - 1);
            }
        }

        return Build(pack, begin, end, rewritten, shift);
    }

    private PreparedTargetPack Build(
        ChangePack pack, HybridTimestamp begin, HybridTimestamp end, List<ReadOnlySequence<byte>> changes, bool shifted)
    {
        var messages = new List<ReadOnlySequence<byte>>(changes.Count + 2);
        if (!HasSent)
        {
            messages.Add(new ReadOnlySequence<byte>(_control.BuildTimeTick(begin)));
        }

        messages.AddRange(changes);
        messages.Add(new ReadOnlySequence<byte>(_control.BuildTimeTick(end)));

        return new PreparedTargetPack(Request(pack, begin, end, messages), pack.EndPosition, changes.Count == 0, shifted);
    }

    /// <summary>The ReplicateMessage request for this channel: the messages, and the pack's source positions.</summary>
    private TargetReplicatePack Request(ChangePack pack, HybridTimestamp begin, HybridTimestamp end, IReadOnlyList<ReadOnlySequence<byte>> messages) =>
        new(
            TargetChannel,
            begin,
            end,
            messages,
            [new TargetPackPosition(TargetChannel, pack.StartPosition.MessageId.ToArray(), string.Empty, begin)],
            [new TargetPackPosition(TargetChannel, pack.EndPosition.MessageId.ToArray(), string.Empty, end)]);

    private static HybridTimestamp Next(HybridTimestamp after, ulong step) => new(after.Value + step);
}
