using System.Collections.Concurrent;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Replication.Routing;

/// <summary>
/// Where the DML of one source collection goes on the target: the target collection's id, its shards paired with the
/// source's (<see cref="ChannelMapping"/>) and its partitions by name. Partitions are refreshed from the target when a
/// new one is created; lookups are thread-safe. Under a <c>name_mapping</c> the target database and collection names differ
/// from the source's, and every DML message is rewritten to carry them.
/// </summary>
public sealed class CollectionRoute
{
    private readonly ConcurrentDictionary<string, long> _partitions = new(StringComparer.Ordinal);
    private readonly bool _renamed;

    public CollectionRoute(SourceCollection source, TargetCollection target, IEnumerable<TargetPartition> partitions, TargetNames? names = null)
    {
        Source = source ?? throw new ArgumentNullException(nameof(source));
        Target = target ?? throw new ArgumentNullException(nameof(target));
        names ??= TargetNames.Identity;
        TargetDatabase = names.DatabaseOf(source.DbName);
        TargetName = names.CollectionOf(source.DbName, source.Name);
        _renamed = names.Renames(source.DbName, source.Name);
        Channels = ChannelMapping.Pair(source.VirtualChannels, target.VirtualChannels);
        UpdatePartitions(partitions);
    }

    public SourceCollection Source { get; }

    public TargetCollection Target { get; }

    public ChannelMapping Channels { get; }

    /// <summary>The target database the collection lives in.</summary>
    public string TargetDatabase { get; }

    /// <summary>The collection's name on the target.</summary>
    public string TargetName { get; }

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
        return _renamed
            ? new DmlRewrite(Target.CollectionId, Channels.TargetOf(ShardOf(change)), partition, TargetDatabase, TargetName)
            : new DmlRewrite(Target.CollectionId, Channels.TargetOf(ShardOf(change)), partition);
    }

    private static string? PartitionNameOf(SourceChange change) => change switch
    {
        InsertChange i => string.IsNullOrEmpty(i.PartitionName) ? SourcePartition.DefaultName : i.PartitionName,
        DeleteChange d => string.IsNullOrEmpty(d.PartitionName) ? null : d.PartitionName,
        _ => null,
    };
}
