using Microsoft.Extensions.Logging;

namespace Cdc.Application.EventStore;

/// <summary>
/// A catch-up subscription: hands every event of the feed, in sequence order and exactly once per success, to
/// <paramref name="handle"/>, keeping its position in <see cref="ISubscriptionCheckpoints"/> after each batch.
/// A failed batch is handed again from the last saved position.
/// </summary>
public sealed class EventSubscription(
    string name,
    IEventFeed feed,
    ISubscriptionCheckpoints checkpoints,
    Func<RecordedEvent, CancellationToken, Task> handle,
    ILogger logger,
    int batchSize = 256)
{
    public string Name { get; } = name;

    /// <summary>Handles everything up to the current high-water mark and returns the position reached.</summary>
    public async Task<long> CatchUpAsync(CancellationToken cancellationToken)
    {
        var position = await checkpoints.LoadAsync(Name, cancellationToken);
        while (true)
        {
            var batch = await feed.ReadAsync(position, batchSize, cancellationToken);
            if (batch.Count == 0) return position;
            foreach (var e in batch)
            {
                await handle(e, cancellationToken);
                position = e.Sequence;
            }
            await checkpoints.SaveAsync(Name, position, cancellationToken);
        }
    }

    /// <summary>Catches up, then waits for new events (notification or poll) until cancelled.</summary>
    public async Task RunAsync(TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            long position;
            try
            {
                position = await CatchUpAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "subscription {Subscription} failed; retrying from its last position", Name);
                await Task.Delay(pollInterval, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            await feed.WaitForEventsAsync(position, pollInterval, cancellationToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
