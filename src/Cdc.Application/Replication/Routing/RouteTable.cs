using System.Collections.Concurrent;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Replication.Routing;

/// <summary>
/// A task's routes: for each replicated source collection, where its DML goes on the target
/// (<see cref="CollectionRoute"/>). The stages are given this table (the packer asks what is selected, the writer where a
/// change goes and how many source pchannels feed a target pchannel); the run's setup and metadata watch add and remove
/// routes. Thread-safe: the channel loops read it while the watch changes it.
/// </summary>
public sealed class RouteTable(CollectionSelection selection)
{
    private readonly ConcurrentDictionary<long, CollectionRoute> _routes = new();
    private int _version; // moves after every change of _routes
    private volatile Feeders? _feeders;

    /// <summary>How many source pchannels write to each target pchannel, as of a version of the routes.</summary>
    private sealed record Feeders(int Version, Dictionary<string, int> Count);

    public IEnumerable<CollectionRoute> All => _routes.Values;

    /// <summary>The source pchannels of the routed collections, each once, in order.</summary>
    public IReadOnlyList<string> SourcePhysicalChannels =>
        _routes.Values.SelectMany(r => r.SourcePhysicalChannels).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public void Add(CollectionRoute route)
    {
        _routes[route.Source.Id] = route;
        Interlocked.Increment(ref _version);
    }

    public void Remove(long collectionId)
    {
        if (_routes.TryRemove(collectionId, out _)) Interlocked.Increment(ref _version);
    }

    public bool TryGet(long collectionId, out CollectionRoute route) => _routes.TryGetValue(collectionId, out route!);

    /// <summary>Whether a change is DML (or a drop) of a collection this task replicates: routed, or selected and not routed yet.</summary>
    public bool Selects(SourceChange change) => change switch
    {
        InsertChange i => _routes.ContainsKey(i.CollectionId) || selection.Covers(i.DbName, i.CollectionName),
        DeleteChange d => _routes.ContainsKey(d.CollectionId) || selection.Covers(d.DbName, d.CollectionName),
        DropCollectionChange d => _routes.ContainsKey(d.CollectionId),
        DropPartitionChange d => _routes.ContainsKey(d.CollectionId),
        _ => false,
    };

    /// <summary>Whether a source collection is one this task replicates.</summary>
    public bool Selects(SourceCollection collection) => selection.Covers(collection.DbName, collection.Name);

    /// <summary>Whether a change is an Insert or a Delete (rows), as opposed to a drop.</summary>
    public static bool IsDml(SourceChange change) => change is InsertChange or DeleteChange;

    /// <summary>The source collection an Insert or Delete writes to.</summary>
    public static long CollectionIdOf(SourceChange change) => change switch
    {
        InsertChange i => i.CollectionId,
        DeleteChange d => d.CollectionId,
        _ => throw new InvalidOperationException($"a {change.Kind} is not replicated as DML"),
    };

    /// <summary>The route of an Insert or Delete, or null when its collection is not (yet) routed.</summary>
    public CollectionRoute? RouteOf(SourceChange change) => _routes.GetValueOrDefault(CollectionIdOf(change));

    /// <summary>Whether an Insert or Delete can be written now: its collection is routed and its partition is on the target.</summary>
    public bool CanWrite(SourceChange change) => RouteOf(change) is { } route && route.KnowsPartitionOf(change);

    /// <summary>The target ids, shard and names for an Insert or Delete of a routed collection.</summary>
    public DmlRewrite RewriteFor(SourceChange change) =>
        (RouteOf(change) ?? throw new InvalidOperationException($"collection {CollectionIdOf(change)} of {change.Origin.Describe()} is not routed"))
        .Rewrite(change);

    /// <summary>The target pchannels a source pchannel feeds, over every routed collection.</summary>
    public IEnumerable<string> TargetPhysicalChannelsOf(string sourcePhysicalChannel) =>
        _routes.Values.SelectMany(r => r.TargetPhysicalChannelsOf(sourcePhysicalChannel));

    /// <summary>Whether a single source pchannel of the task writes to <paramref name="targetChannel"/>.</summary>
    public bool FedByOneSource(string targetChannel)
    {
        // Rebuilt after the routes change (a collection added or dropped), not per message.
        var feeders = _feeders;
        var version = Volatile.Read(ref _version);
        if (feeders is null || feeders.Version != version)
        {
            feeders = new Feeders(version, _routes.Values
                .SelectMany(r => r.SourcePhysicalChannels.SelectMany(source => r.TargetPhysicalChannelsOf(source).Select(target => (target, source))))
                .GroupBy(p => p.target, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(p => p.source).Distinct(StringComparer.Ordinal).Count(), StringComparer.Ordinal));
            _feeders = feeders;
        }

        return feeders.Count.TryGetValue(targetChannel, out var count) && count == 1;
    }
}
