using Wolverine.Runtime;

namespace Cdc.Api.Hosting;

/// <summary>
/// Asks Wolverine's agent leader to evaluate the task assignment now, folding the requests of a burst into one: a
/// request starts a short wait, and those that arrive during it are covered by the one evaluation that follows. Without
/// it, 100 tasks resumed at once asked for 100 evaluations, each reading and writing the node tables, which showed as
/// second-long tails on the API while they ran. The leader also evaluates every second, so a folded request is never
/// lost, only joined.
/// </summary>
public sealed class AssignmentEvaluation(IWolverineRuntime runtime, TimeProvider time, ILogger<AssignmentEvaluation> logger)
{
    /// <summary>How long a request waits for others to join it.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);

    private int _pending;

    /// <summary>Requests an evaluation; returns at once (the evaluation runs after <see cref="Window"/>).</summary>
    public void Request()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 1) return;
        _ = RunAsync();
    }

    private async Task RunAsync()
    {
        try
        {
            await Task.Delay(Window, time).ConfigureAwait(false);
            // Requests from here on start a new wait: what changed after this point is not missed.
            Volatile.Write(ref _pending, 0);
            await runtime.Agents.KickstartHealthDetectionAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Volatile.Write(ref _pending, 0);
            logger.LogWarning(e, "could not ask for the task assignment to be evaluated; the leader's periodic check will");
        }
    }
}
