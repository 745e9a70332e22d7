namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// A writer that keeps going through a crash or a take-over: round after round, 60 new keys per collection inserted,
/// every third deleted and every sixth inserted again (<see cref="ScenarioSource.InsertDeleteReinsertAsync"/>), then a
/// time tick on every pchannel, until stopped.
/// </summary>
internal sealed class ScenarioWriter
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _writing;
    private int _rounds;

    public ScenarioWriter(ScenarioSource source, IReadOnlyList<string> collections, CancellationToken deadline)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        var stop = _stop.Token;
        _writing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var keys = Scenario.Keys(1 + _rounds * 60L, 60);
                foreach (var collection in collections) await source.InsertDeleteReinsertAsync(collection, keys, deadline);
                await source.TickAsync(deadline);
                Interlocked.Increment(ref _rounds);
                await Task.Delay(50, deadline);
            }
        }, deadline);
    }

    /// <summary>The rounds written so far.</summary>
    public int Rounds => Volatile.Read(ref _rounds);

    /// <summary>Stops after the round under way (which is written whole).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _writing;
        _stop.Dispose();
    }
}
