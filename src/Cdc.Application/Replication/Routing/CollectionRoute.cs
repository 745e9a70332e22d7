using System.Collections.Concurrent;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;

namespace Cdc.Application.Replication.Routing;

/// <summary>
/// Where the DML of one source collection goes on the target: the target collection's id, its shards paired with the
/// source's (<see cref="ChannelMapping"/>) and its partitions by name. Partitions are refreshed from the target when a
/// new one is created; lookups are thread-safe.
/// </summary>
public sealed class CollectionRoute
{
    private readonly ConcurrentDictionary<string, long> _partitions = new(StringComparer.Ordinal);

    public CollectionRoute(SourceCollection source, TargetCollection target, IEnumerable<TargetPartition> partitions)
    {
        Source = source ?? throw new ArgumentNullException(nameof(source));
        Target = target ?? throw new ArgumentNullException(nameof(target));
        Channels = ChannelMapping.Pair(source.VirtualChannels, target.VirtualChannels);
        UpdatePartitions(partitions);
    }

    public SourceCollection Source { get; }

    public TargetCollection Target { get; }

    public ChannelMapping Channels { get; }

    /// <summary>The target database name the collection lives in.</summary>
    public string TargetDatabase => Domain.Tasks.CollectionSelection.DatabaseOrDefault(Source.DbName);

    /// <summary>The source pchannels the collection's shards live on.</summary>
    public IEnumerable<string> SourcePhysicalChannels => Source.VirtualChannels.Select(ChannelMapping.ToPhysical).Distinct(StringComparer.Ordinal);

    /// <summary>The target pchannels a source pchannel feeds for this collection.</summary>
    public IEnumerable<string> TargetPhysicalChannelsOf(string sourcePhysicalChannel) =>
        Channels.Pairs.Where(p => ChannelMapping.ToPhysical(p.Key) == sourcePhysicalChannel).Select(p => ChannelMapping.ToPhysical(p.Value));

    public void UpdatePartitions(IEnumerable<TargetPartition> partitions)
    {
        foreach (var partition in partitions) _partitions[partition.Name] = partition.PartitionId;
    }

    /// <summary>Whether the target partition of a change is known (a delete from all partitions needs none).</summary>
    public bool KnowsPartitionOf(SourceChange change) => PartitionNameOf(change) is not { } name || _partitions.ContainsKey(name);

    /// <summary>The source vchannel (shard) of an Insert or Delete.</summary>
    public static string ShardOf(SourceChange change) => change switch
    {
        InsertChange i => i.ShardName,
        DeleteChange d => d.ShardName,
        _ => change.Origin.VirtualChannel ?? throw new InvalidOperationException($"a {change.Kind} at {change.Origin.Describe()} names no shard"),
    };

    /// <summary>The target pchannel that receives a change.</summary>
    public string TargetPhysicalChannelOf(SourceChange change) => Channels.TargetPhysicalOf(ShardOf(change));

    /// <summary>The target ids and shard for an Insert or Delete of this collection.</summary>
    public DmlRewrite Rewrite(SourceChange change)
    {
        var partition = PartitionNameOf(change) is { } name
            ? _partitions.TryGetValue(name, out var id) ? id : throw new InvalidOperationException($"partition '{name}' of collection '{Source.Name}' is not on the target")
            : (long?)null;
        return new DmlRewrite(Target.CollectionId, Channels.TargetOf(ShardOf(change)), partition);
    }

    private static string? PartitionNameOf(SourceChange change) => change switch
    {
        InsertChange i => string.IsNullOrEmpty(i.PartitionName) ? SourcePartition.DefaultName : i.PartitionName,
        DeleteChange d => string.IsNullOrEmpty(d.PartitionName) ? null : d.PartitionName,
        _ => null,
    };
}
