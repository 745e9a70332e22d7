using Cdc.Application.EventStore;

namespace Cdc.Api.Tests.Metrics;

/// <summary>A feed whose queries never answer (until cancelled).</summary>
internal sealed class SilentEventFeed : IEventFeed
{
    public async Task<IReadOnlyList<RecordedEvent>> ReadAsync(long afterSequence, int maxCount, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return [];
    }

    public async Task<long> HighWaterMarkAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public Task WaitForEventsAsync(long afterSequence, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.Delay(Timeout.Infinite, cancellationToken);
}

/// <summary>A feed whose first high-water mark query fails and later ones answer 0.</summary>
internal sealed class FailingOnceEventFeed : IEventFeed
{
    private int _calls;

    public Task<IReadOnlyList<RecordedEvent>> ReadAsync(long afterSequence, int maxCount, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RecordedEvent>>([]);

    public Task<long> HighWaterMarkAsync(CancellationToken cancellationToken) =>
        Interlocked.Increment(ref _calls) == 1
            ? Task.FromException<long>(new InvalidOperationException("the feed broke"))
            : Task.FromResult(0L);

    public Task WaitForEventsAsync(long afterSequence, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.Delay(timeout, cancellationToken);
}
