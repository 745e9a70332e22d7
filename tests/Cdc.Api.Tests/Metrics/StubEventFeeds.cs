using Cdc.Application.EventStore;
using Cdc.Application.Tasks;

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

}

/// <summary>Task views whose list fails until <see cref="Open"/> is called; then the real views answer.</summary>
internal sealed class GatedTaskViews
{
    private volatile bool _open;

    public void Open() => _open = true;

    public ITaskViews Over(ITaskViews inner) => new Views(this, inner);

    private sealed class Views(GatedTaskViews gate, ITaskViews inner) : ITaskViews
    {
        public Task<TaskView?> GetAsync(string taskId, CancellationToken cancellationToken) => inner.GetAsync(taskId, cancellationToken);

        public Task<IReadOnlyList<TaskView>> ListAsync(CancellationToken cancellationToken) => gate._open
            ? inner.ListAsync(cancellationToken)
            : Task.FromException<IReadOnlyList<TaskView>>(new InvalidOperationException("the task views are not readable yet"));
    }
}
