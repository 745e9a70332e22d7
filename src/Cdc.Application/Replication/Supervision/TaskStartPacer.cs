namespace Cdc.Application.Replication.Supervision;

/// <summary>
/// Spaces out the starts of task runs on this server: one every <c>1 / perSecond</c> seconds. A start reads the task's
/// stream, view and runtime report, writes its first report and makes its first calls to the source and target; a few
/// hundred of them at once (a server restarted with many tasks, the tasks of a dead server moved here, a burst of
/// creates) left the API waiting for the CPU for most of a second. Paced, the API answers in time while the runs come up
/// one after the other: 100 tasks at the default 50 a second take 2 s.
/// </summary>
/// <remarks>
/// A run waits for its turn once it holds its task's lease (<see cref="SupervisedTaskRun"/>), so tasks that wait for
/// another server's lease take no turns. Turns are given in the order they are asked for, on <see cref="TimeProvider"/>;
/// time without starts is not saved up for a later burst.
/// </remarks>
public sealed class TaskStartPacer
{
    private readonly TimeProvider _clock;
    private readonly long _interval; // in the clock's timestamp units
    private readonly Lock _gate = new();
    private long _next = long.MinValue;

    public TaskStartPacer(int perSecond, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        _clock = clock;
        _interval = Math.Max(1, clock.TimestampFrequency / perSecond);
    }

    /// <summary>Waits until this start's turn (at once when the last turn is an interval ago or more).</summary>
    public Task WaitTurnAsync(CancellationToken cancellationToken)
    {
        var wait = TakeTurn();
        return wait <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, _clock, cancellationToken);
    }

    /// <summary>Takes the next turn and says how long until it comes (zero: now).</summary>
    public TimeSpan TakeTurn()
    {
        var now = _clock.GetTimestamp();
        long turn;
        lock (_gate)
        {
            turn = Math.Max(_next, now);
            _next = turn + _interval;
        }

        return _clock.GetElapsedTime(now, turn);
    }
}
