namespace Cdc.Domain.Events;

/// <summary>
/// The task sends nothing above <paramref name="Timestamp"/> on the target pchannel <paramref name="TargetChannel"/>
/// until a newer reservation is written, and every later run of the task sends above it: written before a message above
/// the previous reservation goes out (then with a margin over what is about to be sent), and with the exact highest
/// timestamp sent when a run stops cleanly. <paramref name="Sent"/> is the highest timestamp sent (or being sent) on the
/// channel when it was written. Kept in a stream of its own per (task, target channel).
/// </summary>
public sealed record TargetTimeReserved(
    string TaskId,
    string TargetChannel,
    ulong Timestamp,
    ulong Sent,
    DateTimeOffset ReservedAt) : ITaskEvent;
