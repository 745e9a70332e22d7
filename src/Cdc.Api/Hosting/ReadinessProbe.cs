using Cdc.Application.EventStore;

namespace Cdc.Api.Hosting;

/// <summary>The outcome of a readiness check: one line per check and the names of those that are not ready.</summary>
public sealed record Readiness(IReadOnlyDictionary<string, string> Checks, IReadOnlyList<string> NotReady)
{
    public bool IsReady => NotReady.Count == 0;
}

/// <summary>
/// Readiness: the event store answers a query within <see cref="EventStoreTimeout"/>, and the replication host has
/// started (or has nothing to run because no engine is registered).
/// </summary>
public sealed class ReadinessProbe(IEventFeed feed, ReplicationHost worker, TimeProvider clock)
{
    public const string EventStore = "event_store";
    public const string Worker = "replication_worker";

    public TimeSpan EventStoreTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public async Task<Readiness> CheckAsync(CancellationToken cancellationToken)
    {
        var checks = new Dictionary<string, string>(StringComparer.Ordinal);
        var notReady = new List<string>();

        using (var timeout = new CancellationTokenSource(EventStoreTimeout, clock))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
        {
            try
            {
                await feed.HighWaterMarkAsync(linked.Token);
                checks[EventStore] = "ok";
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                checks[EventStore] = timeout.IsCancellationRequested
                    ? $"no answer within {EventStoreTimeout.TotalSeconds:0.###} s"
                    : $"{ex.GetType().Name}: {ex.Message}";
                notReady.Add(EventStore);
            }
        }

        var state = worker.State;
        checks[Worker] = worker.StartError is { } error ? $"{state}: {error}" : state.ToString();
        if (state is not (ReplicationWorkerState.Running or ReplicationWorkerState.NotConfigured)) notReady.Add(Worker);
        return new Readiness(checks, notReady);
    }
}
