using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// What every DML writer asks of the routes before it writes a pack: the pack's Inserts and Deletes whose collection
/// and partition are on the target, waiting a while for ones the metadata watch has not created yet (partitions read
/// again from the target meanwhile). Changes of a collection that never appears are dropped with a warning; a
/// partition that never appears halts the run.
/// </summary>
public sealed class RoutableChanges(string taskId, RouteTable routes, CollectionSetup setup, TimeProvider clock, ILogger logger, DmlWriteOptions options)
{
    public async Task<IReadOnlyList<SourceChange>> OfAsync(ChangePack pack, CancellationToken ct)
    {
        var dml = pack.Changes.Where(RouteTable.IsDml).ToList();
        for (var attempt = 1; ; attempt++)
        {
            foreach (var route in dml.Select(routes.RouteOf).OfType<CollectionRoute>().Distinct().Where(r => dml.Any(c => routes.RouteOf(c) == r && !r.KnowsPartitionOf(c))).ToList())
                await setup.RefreshPartitionsAsync(route, ct);

            var unroutable = dml.Where(c => !routes.CanWrite(c)).ToList();
            if (unroutable.Count == 0) return dml;
            if (attempt >= options.MissingTargetAttempts)
            {
                if (unroutable.FirstOrDefault(c => routes.RouteOf(c) is not null) is { } change)
                    throw ReplicationHalted.Because($"the partition of the {change.Kind} at {change.Origin.Describe()} is not on the target");

                foreach (var lost in unroutable)
                    logger.LogWarning("task {TaskId}: dropped the {Kind} at {Origin}: collection {CollectionId} is not replicated",
                        taskId, lost.Kind, lost.Origin.Describe(), RouteTable.CollectionIdOf(lost));
                return dml.Except(unroutable).ToList();
            }

            await Task.Delay(options.RetryDelay, clock, ct);
        }
    }
}
