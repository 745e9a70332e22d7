using Cdc.Domain.Tasks;

namespace Cdc.Application.Tasks;

/// <summary>The latest checkpoint of one source channel of a task.</summary>
public sealed record ChannelPosition(string Channel, string Position, ulong Timestamp, DateTimeOffset CheckpointedAt);

/// <summary>
/// The read model behind get and list: a task as an operator sees it. The target carries no credentials at all
/// (they are stripped when the view is projected, not when it is rendered).
/// </summary>
public sealed record TaskView(
    string TaskId,
    MilvusTarget Target,
    CollectionSelection Selection,
    RpcChannelInfo? RpcChannel,
    bool DisableAutoStart,
    TaskState State,
    string? Reason,
    IReadOnlyList<ChannelPosition> Positions,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Version)
{
    /// <summary>The task's <c>name_mapping</c> (null: the source's names).</summary>
    public IReadOnlyList<NameMapping>? NameMappings { get; init; }

    /// <summary>The task's <c>start_from</c> (null: the latest message).</summary>
    public ReplicationStart? Start { get; init; }

    /// <summary>How the task applies changes to its target (create's <c>apply_mode</c>).</summary>
    public ApplyMode ApplyMode { get; init; }

    /// <summary>What the server running the task last reported (not part of the projection: joined when read).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public TaskRuntimeReport? Runtime { get; init; }
}

/// <summary>Queries over the task projection.</summary>
public interface ITaskViews
{
    Task<TaskView?> GetAsync(string taskId, CancellationToken cancellationToken);
    Task<IReadOnlyList<TaskView>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The task views as get and list answer an operator: the same answers as <see cref="ITaskViews"/>, served from
/// memory while the server knows that nothing behind them changed. A change committed through this server shows at
/// once; one committed through another server shows when its notice arrives (milliseconds later). Decisions of the
/// replication worker read <see cref="ITaskViews"/>.
/// </summary>
public interface ICachedTaskViews : ITaskViews;
