using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Domain.SourceMeta;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// Follows the source's metadata while the task runs: a selected collection created on the source is created on the
/// target and routed, and a pchannel no loop reads yet gets one (<paramref name="readChannel"/>, from the collection's
/// start position); a partition created on the source is created on the target. Watching again after a failure
/// repeats creates, which the target skips as already applied.
/// </summary>
internal sealed class MetadataWatchLoop(TaskRunStages stages, string taskId, TimeProvider clock, ILogger logger, Action<string, ChannelStart> readChannel)
{
    public async Task RunAsync(SourceMetadataSnapshot snapshot, CancellationToken ct)
    {
        var backoff = stages.Retry.StartBackoff();
        while (true)
        {
            try
            {
                await foreach (var change in stages.Metadata.WatchAsync(snapshot, ct))
                {
                    await OnMetadataAsync(change, ct);
                    backoff.Reset();
                }

                ct.ThrowIfCancellationRequested();
            }
            catch (Exception ex) when (ex is not (ReplicationHalted or OperationCanceledException) && !ct.IsCancellationRequested)
            {
                var delay = backoff.Next();
                logger.LogWarning(ex, "task {TaskId}: watching the source metadata failed, again in {Delay}", taskId, delay);
                stages.Monitor.Failed("watch the source metadata", ex);
                await Task.Delay(delay, clock, ct);
            }
        }
    }

    private async Task OnMetadataAsync(SourceMetaEvent change, CancellationToken ct)
    {
        switch (change)
        {
            case CollectionCreated { Collection: var collection } when stages.Routes.Selects(collection):
                var route = await stages.Setup.AddAsync(collection, [], change.Revision, ct);
                foreach (var pchannel in route.SourcePhysicalChannels)
                {
                    logger.LogInformation("task {TaskId}: collection {Collection} is on {Channel}", taskId, collection.Name, pchannel);
                    readChannel(pchannel, stages.Starts.NewCollectionChannel(pchannel, collection));
                }

                break;
            case PartitionCreated created:
                var outcome = await stages.Retry.RunAsync($"create partition {created.Partition.Name}", token => stages.Operations.ApplyAsync(created, token), ct);
                if (outcome != OperationOutcome.NotSelected && stages.Routes.TryGet(created.Partition.CollectionId, out var owner))
                    await stages.Setup.RefreshPartitionsAsync(owner, ct);
                break;
        }
    }
}
