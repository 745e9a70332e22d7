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
public sealed class CollectionSetup(string taskId, IMilvusTarget target, TargetOperationApplier applier, RouteTable routes, RetryPolicy retry, ILogger logger, TargetNames? names = null)
{
    public async Task<CollectionRoute> AddAsync(SourceCollection collection, IReadOnlyList<SourcePartition> partitions, long revision, CancellationToken ct)
    {
        await retry.RunAsync($"create collection {collection.Name}", token => applier.ApplyAsync(new CollectionCreated(revision, collection), token), ct);
        foreach (var partition in partitions)
        {
            await retry.RunAsync($"create partition {partition.Name} of {collection.Name}",
                token => applier.ApplyAsync(new PartitionCreated(revision, partition, collection.DbName, collection.Name), token), ct);
        }

        names ??= TargetNames.Identity;
        var (database, name) = (names.DatabaseOf(collection.DbName), names.CollectionOf(collection.DbName, collection.Name));
        var described = await retry.RunAsync($"describe collection {database}.{name}", token => target.DescribeCollectionAsync(database, name, token), ct)
            ?? throw ReplicationHalted.Because($"collection {database}.{name} is not on the target after it was created");
        var targetPartitions = await retry.RunAsync($"show the partitions of {database}.{name}", token => target.ShowPartitionsAsync(database, name, token), ct);
        CollectionRoute route;
        try
        {
            route = new CollectionRoute(collection, described, targetPartitions, names);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw ReplicationHalted.Because($"cannot pair the shards of collection {database}.{name}: {ex.Message}", ex);
        }

        routes.Add(route);
        logger.LogInformation("task {TaskId} replicates collection {SourceDatabase}.{SourceCollection} into {Database}.{Collection} ({SourceId} → {TargetId})",
            taskId, CollectionSelection.DatabaseOrDefault(collection.DbName), collection.Name, database, name, collection.Id, described.CollectionId);
        return route;
    }

    /// <summary>Reads a routed collection's partitions from the target again (a new one was created).</summary>
    public async Task RefreshPartitionsAsync(CollectionRoute route, CancellationToken ct) =>
        route.UpdatePartitions(await retry.RunAsync($"show the partitions of {route.TargetDatabase}.{route.TargetName}",
            token => target.ShowPartitionsAsync(route.TargetDatabase, route.TargetName, token), ct));
}
