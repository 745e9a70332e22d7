using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;

namespace Cdc.Testing;

/// <summary>Route tables for tests that write DML without the run's collection setup.</summary>
public static class TestRoutes
{
    /// <summary>A created source collection with the given shards (vchannels) and nothing else of note.</summary>
    public static SourceCollection Source(long id, string name, IReadOnlyList<string> vchannels, string database = "default") =>
        new(id, 1, database, name, "", new SourceCollectionSchema(ReadOnlyMemory<byte>.Empty, [], [], false), vchannels.Count, vchannels,
            vchannels.Select(ChannelMapping.ToPhysical).Distinct().ToList(), new Dictionary<string, ReadOnlyMemory<byte>>(),
            SourceConsistencyLevel.Bounded, new Dictionary<string, string>(), HybridTimestamp.Zero, SourceCollectionState.Created);

    /// <summary>A table of a task that replicates every collection, holding <paramref name="routes"/>.</summary>
    public static RouteTable Table(params CollectionRoute[] routes)
    {
        var table = new RouteTable(new CollectionSelection([new CollectionInfo(CollectionInfo.All)], null));
        foreach (var route in routes) table.Add(route);
        return table;
    }

    /// <summary>One source collection routed to a target collection.</summary>
    public static CollectionRoute Route(SourceCollection source, TargetCollection target, params TargetPartition[] partitions) =>
        new(source, target, partitions);
}
