using Cdc.Application.Replication.Source;
using Cdc.Domain.SourceMeta;

namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>The databases, collections and partitions as last reported to a watcher (absent: removed).</summary>
internal sealed class SourceMetaView
{
    public Dictionary<long, SourceDatabase> Databases { get; } = [];
    public Dictionary<long, SourceCollection> Collections { get; } = [];
    public Dictionary<long, SourcePartition> Partitions { get; } = [];

    public static SourceMetaView From(SourceMetadataSnapshot snapshot)
    {
        var view = new SourceMetaView();
        foreach (var db in snapshot.Databases) view.Databases[db.Id] = db;
        foreach (var collection in snapshot.Collections) view.Collections[collection.Id] = collection;
        foreach (var partition in snapshot.Partitions) view.Partitions[partition.Id] = partition;
        return view;
    }

    public SourceDatabase? Database(long id) => Databases.GetValueOrDefault(id);
    public SourceCollection? Collection(long id) => Collections.GetValueOrDefault(id);
    public SourcePartition? Partition(long id) => Partitions.GetValueOrDefault(id);

    public void Set(long id, SourceDatabase? database) => Databases.SetOrRemove(id, database);
    public void Set(long id, SourceCollection? collection) => Collections.SetOrRemove(id, collection);
    public void Set(long id, SourcePartition? partition) => Partitions.SetOrRemove(id, partition);

    public SourceMetadataSnapshot ToSnapshot(long revision) => new(
        [.. Databases.Values.OrderBy(d => d.Id)],
        [.. Collections.Values.OrderBy(c => c.Id)],
        [.. Partitions.Values.OrderBy(p => p.CollectionId).ThenBy(p => p.Id)],
        revision);
}
