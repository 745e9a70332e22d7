using Cdc.Application.Tasks;

namespace Cdc.Infrastructure.EventStore;

/// <summary>The latest checkpoint of one source channel of a task: the Marten document behind <c>position</c> and resume.</summary>
/// <param name="Id">The checkpoint stream's id, <c>{task id}/{channel}</c>.</param>
public sealed record ChannelPositionDocument(string Id, string TaskId, string Channel, string Position, ulong Timestamp, DateTimeOffset CheckpointedAt)
{
    public ChannelPosition ToView() => new(Channel, Position, Timestamp, CheckpointedAt);
}

/// <summary>What the server running a task last reported (not an event: a retried failure decides nothing), by task id.</summary>
public sealed record TaskRuntimeDocument(
    string Id,
    string Owner,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    DateTimeOffset? RecoveredAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StoppedAt,
    DateTimeOffset? CaughtUpSince = null,
    DateTimeOffset? CaughtUpAsOf = null)
{
    public static TaskRuntimeDocument From(string taskId, TaskRuntimeReport r) =>
        new(taskId, r.Owner, r.LastError, r.LastErrorAt, r.RecoveredAt, r.UpdatedAt, r.StoppedAt, r.CaughtUpSince, r.CaughtUpAsOf);

    public TaskRuntimeReport ToReport() =>
        new(Owner, LastError, LastErrorAt, RecoveredAt, UpdatedAt, StoppedAt) { CaughtUpSince = CaughtUpSince, CaughtUpAsOf = CaughtUpAsOf };
}
