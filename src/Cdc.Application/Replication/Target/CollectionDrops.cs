using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// How a drop's call on the target gets its timestamp: <paramref name="apply"/> is called with it (and retries inside).
/// </summary>
public delegate Task DropStamp(CollectionRoute route, SourceChange drop, Func<HybridTimestamp, CancellationToken, Task> apply, CancellationToken ct);

/// <summary>
/// The drops every DML writer reads on the DML channels: a DropCollection or DropPartition is applied to the target
/// through its normal RPC, under the collection's target name, once every shard of the collection carried it
/// (<see cref="DropCoordinator"/>), a drop of what is gone already counting as done (a drop replayed after a restart);
/// a dropped collection leaves the routes.
/// </summary>
public sealed class CollectionDrops(string taskId, IMilvusTarget target, RouteTable routes, RetryPolicy retry, ILogger logger, bool ignorePartition)
{
    private readonly DropCoordinator _drops = new();

    /// <summary>A drop applied at its own source timestamp.</summary>
    public static Task AtItsOwnTime(CollectionRoute route, SourceChange drop, Func<HybridTimestamp, CancellationToken, Task> apply, CancellationToken ct) =>
        apply(drop.Timestamp, ct);

    /// <summary>
    /// A DropCollection or DropPartition read on a shard of <paramref name="pchannel"/>, applied at the timestamp
    /// <paramref name="stamp"/> gives it; anything else is ignored.
    /// </summary>
    public async Task ApplyAsync(SourceChange drop, string pchannel, DropStamp stamp, CancellationToken ct)
    {
        switch (drop)
        {
            case DropCollectionChange d when routes.TryGet(d.CollectionId, out var route):
                await _drops.ArriveAsync($"collection {d.CollectionId}", [.. route.Source.VirtualChannels], pchannel, d.Origin.VirtualChannel, async token =>
                {
                    await stamp(route, d, (at, s) => retry.RunAsync($"drop collection {route.TargetDatabase}.{route.TargetName} at {d.Origin.Describe()}", async t =>
                    {
                        try
                        {
                            await target.DropCollectionAsync(route.TargetDatabase, route.TargetName, at, t);
                        }
                        catch (MilvusTargetException ex) when (ex.IsCollectionNotFound)
                        {
                            // Already gone (a drop replayed after a restart).
                        }
                    }, s), token);
                    routes.Remove(d.CollectionId);
                    logger.LogInformation("task {TaskId} dropped collection {Database}.{Collection}", taskId, route.TargetDatabase, route.TargetName);
                }, ct);
                break;
            case DropPartitionChange d when routes.TryGet(d.CollectionId, out var route):
                await _drops.ArriveAsync($"partition {d.CollectionId}/{d.PartitionId}", [.. route.Source.VirtualChannels], pchannel, d.Origin.VirtualChannel, async token =>
                {
                    if (ignorePartition) return;
                    await stamp(route, d, (at, s) => retry.RunAsync($"drop partition {d.PartitionName} of {route.TargetDatabase}.{route.TargetName} at {d.Origin.Describe()}", async t =>
                    {
                        try
                        {
                            await target.DropPartitionAsync(route.TargetDatabase, route.TargetName, d.PartitionName, at, t);
                        }
                        catch (MilvusTargetException ex) when (ex.MilvusCode == MilvusTargetException.PartitionNotFoundCode || ex.IsCollectionNotFound)
                        {
                            // Already gone.
                        }
                    }, s), token);
                }, ct);
                break;
        }
    }
}
