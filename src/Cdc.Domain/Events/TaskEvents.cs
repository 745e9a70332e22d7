using Cdc.Domain.Tasks;

namespace Cdc.Domain.Events;

/// <summary>An event of a task's stream.</summary>
public interface ITaskEvent
{
    string TaskId { get; }
}

/// <summary>An event whose audit rendering must hide secrets.</summary>
public interface IHoldsSecrets
{
    /// <summary>The same event with every secret replaced by <see cref="ProtectedSecret.Mask"/>.</summary>
    object Masked();
}

public sealed record TaskCreated(string TaskId, TaskDefinition Definition, DateTimeOffset CreatedAt)
    : ITaskEvent, IHoldsSecrets
{
    public object Masked() => this with { Definition = Definition with { Target = Definition.Target.Masked() } };
}

public sealed record TaskPaused(string TaskId, string Reason, DateTimeOffset PausedAt) : ITaskEvent
{
    /// <summary>The reason the reference server records for a pause requested over HTTP.</summary>
    public const string ManualReason = "manually pause through http interface";
}

public sealed record TaskResumed(string TaskId, DateTimeOffset ResumedAt) : ITaskEvent;

public sealed record TaskDeleted(string TaskId, DateTimeOffset DeletedAt) : ITaskEvent;

/// <summary>
/// The replication of a task reached <paramref name="Position"/> (base64 of the source message id) on a source
/// channel, and the target acknowledged everything up to it. Kept in a stream of its own per (task, channel).
/// </summary>
public sealed record ChannelCheckpointed(
    string TaskId,
    string Channel,
    string Position,
    ulong Timestamp,
    DateTimeOffset CheckpointedAt) : ITaskEvent;
