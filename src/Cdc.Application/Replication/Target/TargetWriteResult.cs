using Cdc.Application.Replication.Source;


namespace Cdc.Application.Replication.Target;

/// <summary>
/// What writing one pack to its target channel did. <see cref="Checkpoint"/> is the source position that may now be
/// recorded: the pack was acknowledged by the target, or needed no call (a throttled time tick).
/// </summary>
/// <param name="Checkpoint">The source position of the pack's closing tick.</param>
/// <param name="Sent">Whether a ReplicateMessage call was made.</param>
/// <param name="TargetPosition">The target's position after the call (base64 MQ id), null when nothing was sent.</param>
public sealed record TargetWriteResult(SourcePosition Checkpoint, bool Sent, string? TargetPosition);
