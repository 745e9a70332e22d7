using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Source;


namespace Cdc.Application.Replication.Target;

/// <summary>
/// A <see cref="ChangePack"/> made ready for one target channel: the ReplicateMessage request to send, and the source
/// checkpoint it advances once the target acknowledged it.
/// </summary>
/// <param name="Request">The rewritten messages, timestamps and positions for the target channel.</param>
/// <param name="Checkpoint">The source position of the pack's closing tick.</param>
/// <param name="IsTimeTickOnly">The pack carries no change, only the CDC's time tick(s).</param>
/// <param name="TimestampsShifted">The source timestamps were not above what the channel had seen and were moved up.</param>
public sealed record PreparedTargetPack(
    TargetReplicatePack Request,
    SourcePosition Checkpoint,
    bool IsTimeTickOnly,
    bool TimestampsShifted)
{
    /// <summary>Changes sent ahead of their tick (<see cref="TargetTimestampRewriter.PrepareAhead"/>).</summary>
    public bool IsAhead { get; init; }
}
