using Cdc.Domain.Changes;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Tasks;

/// <summary>
/// What the replication of a task last reported about its failures, from whichever server runs it: the last
/// transient error it is retrying through, when it got going again afterwards, and when it stopped cleanly (null
/// while it runs, or when the server running it died: then the next run may send up to one checkpoint interval of
/// data a second time).
/// </summary>
public sealed record TaskRuntimeReport(
    string Owner,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    DateTimeOffset? RecoveredAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StoppedAt = null)
{
    /// <summary>
    /// While the run's catch-up checks find it caught up: the time of the first check of that unbroken run; null
    /// otherwise (not caught up, not checked yet, or stopped).
    /// </summary>
    public DateTimeOffset? CaughtUpSince { get; init; }

    /// <summary>
    /// While caught up: the time of the source probe the last check compared with (every message the source held then
    /// was applied on the target and checkpointed).
    /// </summary>
    public DateTimeOffset? CaughtUpAsOf { get; init; }
}

/// <summary>
/// Whether a task has caught up with its source, as get and list show it: <see cref="CaughtUp"/> is true while the
/// task is Running, the run that reports it has not stopped, and its last catch-up check, no older than
/// <see cref="StaleAfter"/>, found that every channel had applied and checkpointed every message the source held at
/// <see cref="AsOf"/>. False otherwise: not caught up, not checked yet by the current run (a restart), paused, or a
/// report gone stale (the server running it stopped reporting, e.g. it died).
/// </summary>
public sealed record TaskCatchUp(bool CaughtUp, DateTimeOffset? Since, DateTimeOffset? AsOf)
{
    /// <summary>How old the last check may be before the verdict is no longer trusted (checks run about every second).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(10);

    /// <summary>The verdict for <paramref name="view"/> at <paramref name="now"/>; null for a task that never ran.</summary>
    public static TaskCatchUp? Of(TaskView view, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.Runtime is not { } runtime) return null;
        var fresh = DependsOnTime(view) && now - runtime.CaughtUpAsOf!.Value <= StaleAfter;
        return fresh ? new TaskCatchUp(true, runtime.CaughtUpSince, runtime.CaughtUpAsOf) : new TaskCatchUp(false, null, null);
    }

    /// <summary>
    /// Whether the verdict for <paramref name="view"/> changes with the time: a Running task whose run, not stopped,
    /// reported it caught up, which turns false once that check is <see cref="StaleAfter"/> old. Any other verdict is
    /// false whatever the time.
    /// </summary>
    public static bool DependsOnTime(TaskView view) =>
        view is { State: TaskState.Running, Runtime: { StoppedAt: null, CaughtUpSince: not null, CaughtUpAsOf: not null } };
}

/// <summary>
/// A task's health as get and list show it: <see cref="Status"/> (<c>replicating</c>, <c>retrying</c> while the last
/// error has not been followed by progress, <c>paused</c>), the lag in milliseconds (now minus the time of the oldest
/// DML channel checkpoint, so it grows while nothing moves and it is right after a restart; the replicate channel
/// carries no time ticks, so its checkpoint only moves with an operation and says nothing about lag), and the last
/// error.
/// </summary>
public sealed record TaskHealth(string Status, long? LagMs, string? LastError, DateTimeOffset? LastErrorAt)
{
    public const string Replicating = "replicating";
    public const string Retrying = "retrying";
    public const string Paused = "paused";

    /// <summary>
    /// The health of <paramref name="view"/> at <paramref name="now"/>, the lag leaving out
    /// <paramref name="replicateChannel"/>; null while there is nothing to tell.
    /// </summary>
    public static TaskHealth? Of(TaskView view, DateTimeOffset now, string? replicateChannel = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        var runtime = view.Runtime;
        var ticking = view.Positions.Where(p => p.Channel != replicateChannel).ToList();
        var lag = ticking.Count == 0 ? (long?)null : ticking.Max(p => LagAt(p.Timestamp, now));
        if (lag is null && runtime?.LastError is null) return null;
        var retrying = runtime is { LastError: not null, LastErrorAt: { } failed } && (runtime.RecoveredAt is not { } ok || ok < failed);
        var status = view.State != TaskState.Running ? Paused : retrying ? Retrying : Replicating;
        return new TaskHealth(status, lag, runtime?.LastError, runtime?.LastErrorAt);
    }

    /// <summary>Milliseconds between <paramref name="now"/> and the physical part of a hybrid timestamp (never below 0).</summary>
    public static long LagAt(ulong timestamp, DateTimeOffset now) =>
        Math.Max(0, now.ToUnixTimeMilliseconds() - new HybridTimestamp(timestamp).PhysicalMilliseconds);
}
