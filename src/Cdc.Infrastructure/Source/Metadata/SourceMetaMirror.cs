using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Infrastructure.Milvus.Protos.Etcd;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.Target;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>
/// The decoded root-coord keys of one source, kept current by applying store changes; builds the domain objects.
/// A tombstone or a deleted key removes the object. A value that does not decode is logged and treated as absent.
/// </summary>
internal sealed class SourceMetaMirror(SourceMetaLayout layout, ILogger logger)
{
    private readonly Dictionary<long, DatabaseInfo> _databases = [];
    // Per collection id, per database id of its key: a rename into another database writes the new key and
    // tombstones the old one, and the collection must not look removed in between.
    // The most recently written key is the current one.
    private readonly Dictionary<long, Dictionary<long, (CollectionInfo Info, long Written)>> _collections = [];
    private long _writes;
    private readonly Dictionary<long, SortedDictionary<long, FieldSchema>> _fields = [];
    private readonly Dictionary<long, SortedDictionary<long, FunctionSchema>> _functions = [];
    private readonly Dictionary<long, (long CollectionId, PartitionInfo Info)> _partitions = [];

    public IEnumerable<long> DatabaseIds => _databases.Keys;
    public IEnumerable<long> CollectionIds => _collections.Keys;
    public IEnumerable<long> PartitionIds => _partitions.Keys;

    /// <summary>Applies one key's new value (empty: deleted); returns what the key names, or null when it is not used.</summary>
    public SourceMetaKey? Apply(string key, ReadOnlyMemory<byte> value)
    {
        if (layout.Parse(key) is not { } parsed) return null;
        var removed = value.IsEmpty || MetaTombstone.Is(value.Span);
        switch (parsed.Kind)
        {
            case SourceMetaKeyKind.Database:
                _databases.SetOrRemove(parsed.Id, removed ? null : Decode(DatabaseInfo.Parser, key, value));
                break;
            case SourceMetaKeyKind.Collection:
                var info = removed ? null : Decode(CollectionInfo.Parser, key, value);
                if (info is not null)
                {
                    if (!_collections.TryGetValue(parsed.Id, out var byDb)) _collections[parsed.Id] = byDb = [];
                    byDb[parsed.ParentId] = (info, ++_writes);
                }
                else if (_collections.TryGetValue(parsed.Id, out var byDb) && byDb.Remove(parsed.ParentId) && byDb.Count == 0)
                {
                    _collections.Remove(parsed.Id);
                }
                break;
            case SourceMetaKeyKind.Field:
                SetChild(_fields, parsed, removed ? null : Decode(FieldSchema.Parser, key, value));
                break;
            case SourceMetaKeyKind.Function:
                SetChild(_functions, parsed, removed ? null : Decode(FunctionSchema.Parser, key, value));
                break;
            case SourceMetaKeyKind.Partition:
                var partition = removed ? null : Decode(PartitionInfo.Parser, key, value);
                if (partition is null) _partitions.Remove(parsed.Id);
                else _partitions[parsed.Id] = (parsed.ParentId, partition);
                break;
        }
        return parsed;
    }

    public SourceDatabase? Database(long id)
    {
        if (!_databases.TryGetValue(id, out var info)) return null;
        return new SourceDatabase(
            id,
            info.Name,
            info.TenantId,
            (SourceDatabaseState)(int)info.State,
            new HybridTimestamp(info.CreatedTime),
            MilvusWire.KeyValuePairs.ToDictionary(info.Properties));
    }

    public SourceCollection? Collection(long id)
    {
        if (!_collections.TryGetValue(id, out var byDb)) return null;
        // Two keys only for the moment of a move between databases.
        var (dbIdFromKey, (info, _)) = byDb.MaxBy(e => e.Value.Written);
        var dbId = info.DbId != 0 ? info.DbId : dbIdFromKey;
        var schema = SourceSchemaRebuilder.Rebuild(
            info.Schema,
            _fields.TryGetValue(id, out var fields) ? fields.Values : [],
            _functions.TryGetValue(id, out var functions) ? functions.Values : []);
        var startPositions = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        foreach (var position in info.StartPositions)
        {
            startPositions[position.Key] = position.Data.ToByteArray();
        }
        return new SourceCollection(
            id,
            dbId,
            DatabaseName(dbId),
            info.Schema?.Name ?? "",
            info.Schema?.Description ?? "",
            schema,
            info.ShardsNum,
            [.. info.VirtualChannelNames],
            [.. info.PhysicalChannelNames],
            startPositions,
            (SourceConsistencyLevel)(int)info.ConsistencyLevel,
            MilvusWire.KeyValuePairs.ToDictionary(info.Properties),
            new HybridTimestamp(info.CreateTime),
            (SourceCollectionState)(int)info.State);
    }

    public SourcePartition? Partition(long id)
    {
        if (!_partitions.TryGetValue(id, out var entry)) return null;
        var (collectionIdFromKey, info) = entry;
        return new SourcePartition(
            id,
            info.CollectionId != 0 ? info.CollectionId : collectionIdFromKey,
            info.PartitionName,
            new HybridTimestamp(info.PartitionCreatedTimestamp),
            (SourcePartitionState)(int)info.State);
    }

    /// <summary>The name of a database; the default database's when it has no key (ids 0 and 1), else empty.</summary>
    public string DatabaseName(long dbId) =>
        _databases.TryGetValue(dbId, out var db) ? db.Name
        : dbId is 0 or SourceDatabase.DefaultId ? SourceDatabase.DefaultName
        : "";

    public SourceMetaView ToView()
    {
        var view = new SourceMetaView();
        foreach (var id in DatabaseIds) view.Set(id, Database(id));
        foreach (var id in CollectionIds) view.Set(id, Collection(id));
        foreach (var id in PartitionIds) view.Set(id, Partition(id));
        return view;
    }

    private T? Decode<T>(MessageParser<T> parser, string key, ReadOnlyMemory<byte> value) where T : class, IMessage<T>
    {
        try
        {
            return parser.ParseFrom(value.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            logger.LogWarning(e, "source metadata key {Key} holds no {Message}; it is ignored", key, typeof(T).Name);
            return null;
        }
    }

    private static void SetChild<T>(Dictionary<long, SortedDictionary<long, T>> map, SourceMetaKey key, T? value) where T : class
    {
        if (value is null)
        {
            if (map.TryGetValue(key.ParentId, out var children) && children.Remove(key.Id) && children.Count == 0)
                map.Remove(key.ParentId);
            return;
        }
        if (!map.TryGetValue(key.ParentId, out var existing)) map[key.ParentId] = existing = [];
        existing[key.Id] = value;
    }
}
