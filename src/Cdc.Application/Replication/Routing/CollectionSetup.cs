using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Routing;

/// <summary>
/// Makes a selected source collection replicable: creates it and its partitions on the target (skipped when present),
/// reads back the target's ids, shards and partitions, pairs the shards and adds the collection's route.
/// </summary>
public sealed class CollectionSetup(string taskId, IMilvusTarget target, TargetOperationApplier applier, RouteTable routes, RetryPolicy retry, ILogger logger)
{
    public async Task<CollectionRoute> AddAsync(SourceCollection collection, IReadOnlyList<SourcePartition> partitions, long revision, CancellationToken ct)
    {
        await retry.RunAsync($"create collection {collection.Name}", token => applier.ApplyAsync(new CollectionCreated(revision, collection), token), ct);
        foreach (var partition in partitions)
        {
            await retry.RunAsync($"create partition {partition.Name} of {collection.Name}",
                token => applier.ApplyAsync(new PartitionCreated(revision, partition, collection.DbName, collection.Name), token), ct);
        }

        var database = CollectionSelection.DatabaseOrDefault(collection.DbName);
        var described = await retry.RunAsync($"describe collection {collection.Name}", token => target.DescribeCollectionAsync(database, collection.Name, token), ct)
            ?? throw ReplicationHalted.Because($"collection {database}.{collection.Name} is not on the target after it was created");
        var targetPartitions = await retry.RunAsync($"show the partitions of {collection.Name}", token => target.ShowPartitionsAsync(database, collection.Name, token), ct);
        CollectionRoute route;
        try
        {
            route = new CollectionRoute(collection, described, targetPartitions);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw ReplicationHalted.Because($"cannot pair the shards of collection {database}.{collection.Name}: {ex.Message}", ex);
        }

        routes.Add(route);
        logger.LogInformation("task {TaskId} replicates collection {Database}.{Collection} ({SourceId} → {TargetId})",
            taskId, database, collection.Name, collection.Id, described.CollectionId);
        return route;
    }

    /// <summary>Reads a routed collection's partitions from the target again (a new one was created).</summary>
    public async Task RefreshPartitionsAsync(CollectionRoute route, CancellationToken ct) =>
        route.UpdatePartitions(await retry.RunAsync($"show the partitions of {route.Source.Name}",
            token => target.ShowPartitionsAsync(route.TargetDatabase, route.Source.Name, token), ct));
}
