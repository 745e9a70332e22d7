namespace Cdc.Application.Replication.Running;

/// <summary>
/// Target writes of a channel loop that run on the run's <c>inFlight</c> token (see <see cref="TaskRun"/>): a write
/// that fails after the run stopped, or is cut at the end of the grace, ends the loop as stopped, not as a failure that
/// would halt the task. What it wrote is not checkpointed, so the next run writes it.
/// </summary>
internal static class InFlightWrites
{
    public static async Task StoppedIsCancelled(Task write, CancellationToken stop)
    {
        try
        {
            await write;
        }
        catch (Exception ex) when (stop.IsCancellationRequested && ex is not OperationCanceledException)
        {
            throw Stopped(ex, stop);
        }
    }

    public static async Task<T> StoppedIsCancelled<T>(Task<T> write, CancellationToken stop)
    {
        try
        {
            return await write;
        }
        catch (Exception ex) when (stop.IsCancellationRequested && ex is not OperationCanceledException)
        {
            throw Stopped(ex, stop);
        }
    }

    private static OperationCanceledException Stopped(Exception ex, CancellationToken stop) => new("the run stopped while writing", ex, stop);
}
