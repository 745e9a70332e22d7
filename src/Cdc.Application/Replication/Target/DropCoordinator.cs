using Cdc.Application.Replication.Routing;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// Applies a drop seen on the DML channels once, after every shard of the collection has carried it
/// (<see cref="ShardBarrier{TKey}"/>): the loop of the last shard applies it, the loops of the other shards wait until
/// it is applied before they checkpoint past it, so a restart never loses a drop that only some shards had seen.
/// A 2.4 drop names no vchannel; it then counts for the next shard of its pchannel still awaited.
/// </summary>
public sealed class DropCoordinator
{
    private readonly ShardBarrier<string> _barrier = new();
    private readonly Dictionary<string, TaskCompletionSource> _done = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <param name="key">What is dropped (e.g. the collection or partition id).</param>
    /// <param name="shards">Every vchannel of the collection.</param>
    /// <param name="physicalChannel">The source pchannel the drop was read on.</param>
    /// <param name="virtualChannel">The vchannel the message names, when it names one.</param>
    /// <param name="apply">Applies the drop to the target (called once, by the last shard).</param>
    public async Task ArriveAsync(
        string key, IReadOnlyCollection<string> shards, string physicalChannel, string? virtualChannel,
        Func<CancellationToken, Task> apply, CancellationToken cancellationToken)
    {
        TaskCompletionSource done;
        var last = false;
        lock (_lock)
        {
            if (!_done.TryGetValue(key, out done!))
            {
                done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _done[key] = done;
                _barrier.Expect(key, shards);
            }

            if (!done.Task.IsCompleted)
            {
                var remaining = _barrier.Remaining(key);
                var shard = virtualChannel is not null && remaining.Contains(virtualChannel)
                    ? virtualChannel
                    : remaining.Where(s => ChannelMapping.IsVirtual(s) && ChannelMapping.ToPhysical(s) == physicalChannel)
                        .Order(StringComparer.Ordinal).FirstOrDefault();
                if (shard is not null) last = _barrier.Arrive(key, shard);
            }
        }

        if (!last)
        {
            await done.Task.WaitAsync(cancellationToken);
            return;
        }

        try
        {
            await apply(cancellationToken);
            done.TrySetResult();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            done.TrySetCanceled(cancellationToken);
            throw;
        }
        catch (Exception ex)
        {
            done.TrySetException(ex);
            throw;
        }
    }
}
