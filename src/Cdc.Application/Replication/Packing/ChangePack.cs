using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Packing;

/// <summary>
/// What one source time tick closes on one pchannel (as milvus-io/milvus pkg/mq/msgstream/mq_msgstream.go's MqTtMsgStream packs a channel): the selected changes read since the
/// previous tick, ordered by timestamp with Delete before Insert on equal timestamps, and the positions of the first
/// and last source message of the pack. <see cref="EndPosition"/> (the tick message) is the checkpoint once the
/// target acknowledged the pack. A pack without changes still carries the tick. Changes already sent ahead of the
/// tick (<see cref="TimeTickPacker.SentAhead"/>) are not in <see cref="Changes"/>; <see cref="ClosesSentAhead"/> says
/// there were some, so the tick must reach the target at once.
/// </summary>
/// <param name="Channel">The source pchannel.</param>
/// <param name="BeginTs">The previous tick of the channel (for the first pack: the earliest timestamp read).</param>
/// <param name="EndTs">The closing tick (never below a change's timestamp).</param>
/// <param name="Changes">The selected changes to replicate, in replication order.</param>
/// <param name="StartPosition">The first source message of the pack (selected or not).</param>
/// <param name="EndPosition">The closing time tick message.</param>
public sealed record ChangePack(
    string Channel,
    HybridTimestamp BeginTs,
    HybridTimestamp EndTs,
    IReadOnlyList<SourceChange> Changes,
    SourcePosition StartPosition,
    SourcePosition EndPosition)
{
    /// <summary>True when the pack only moves time forward (nothing to replicate but the tick).</summary>
    public bool IsTimeTickOnly => Changes.Count == 0;

    /// <summary>Changes of the pack's span went to the target ahead of its tick, which therefore closes them there.</summary>
    public bool ClosesSentAhead { get; init; }
}
