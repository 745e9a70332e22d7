using System.Diagnostics;

namespace Cdc.Testing;

/// <summary>Ending a server the tests started as a child process.</summary>
internal static class ChildProcess
{
    /// <summary>Kills the process and its children if it still runs, waits up to 10 s for it to exit, and disposes it.</summary>
    public static async Task KillAndDisposeAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already reaped.
        }
        catch (TimeoutException)
        {
        }

        process.Dispose();
    }
}
