namespace Cdc.Application.Replication.Supervision;

/// <summary>
/// Spaces out the starts of task runs on this server: at most <c>perSecond</c> a second, after a first burst of as many
/// at once. A start reads the task's stream, view and runtime report, writes its first report and makes its first
/// calls to the source and target; a few hundred of them at once (a server restarted with many tasks, the tasks of a
/// dead server moved here, a burst of creates) left the API waiting for the CPU for most of a second. Paced, the API
/// answers in time while the runs come up one after the other: 100 tasks at the default 50 a second take 2 s.
/// </summary>
/// <remarks>
/// A run waits for its turn once it holds its task's lease (<see cref="SupervisedTaskRun"/>), so tasks that wait for
/// another server's lease take no turns. Turns are given in the order they are asked for (a generic cell rate algorithm
/// on <see cref="TimeProvider"/>).
/// </remarks>
public sealed class TaskStartPacer
{
    private readonly TimeProvider _clock;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _burst;
    private readonly Lock _gate = new();
    private TimeSpan _next;

    public TaskStartPacer(int perSecond, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        _clock = clock;
        _interval = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / perSecond);
        // As many starts at once as a second allows: a server with a handful of tasks starts them all together.
        _burst = _interval * (perSecond - 1);
        _next = TimeSpan.MinValue;
    }

    /// <summary>Waits until this start's turn (at once while the server starts fewer than the rate).</summary>
    public Task WaitTurnAsync(CancellationToken cancellationToken)
    {
        var wait = TakeTurn();
        return wait <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, _clock, cancellationToken);
    }

    /// <summary>Takes the next turn and says how long until it comes (zero or less: now).</summary>
    public TimeSpan TakeTurn()
    {
        var now = _clock.GetElapsedTime(0);
        lock (_gate)
        {
            var turn = _next > now - _burst ? _next : now - _burst;
            _next = turn + _interval;
            return turn - now;
        }
    }
}
