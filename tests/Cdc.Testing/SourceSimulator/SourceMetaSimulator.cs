using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using KeyValuePair = Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair;
using Cdc.Infrastructure.Milvus.Protos.Etcd;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Google.Protobuf;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Source.Metadata;

namespace Cdc.Testing.SourceSimulator;

/// <summary>
/// The etcd half of a simulated source Milvus (2.4/2.5): writes root-coord metadata the way Milvus' root
/// coordinator and its kv catalog do, key by key and in the same order, with binary protobuf values and the
/// tombstone for removed keys. Not thread-safe: one test drives one simulator.
/// <list type="bullet">
/// <item>CreateDatabase: db-info with state Created.</item>
/// <item>CreateCollection: collection-info (state Creating), then its partitions (<c>_default</c>, or
/// <c>_default_0…</c> with a partition key), fields (user fields from 100, <c>$meta</c>, system fields 0 and 1) and
/// functions, then collection-info again with state Created.</item>
/// <item>CreatePartition: partition with state Creating, then Created.</item>
/// <item>DropPartition: state Dropping, then the tombstone.</item>
/// <item>DropCollection: state Dropping, then (garbage collection) tombstones for partitions, fields and functions,
/// then for collection-info.</item>
/// <item>DropDatabase: the db-info tombstone.</item>
/// </list>
/// Milvus writes a key and its snapshot-history key in one etcd transaction, and a collection's partitions, fields and
/// functions in batched transactions; <see cref="ISourceMetaWriter"/> has no transactions, so here each key is its own
/// revision (a watcher sees the same keys in the same order).
/// </summary>
public sealed class SourceMetaSimulator
{
    private readonly ISourceMetaWriter _etcd;
    private readonly SourceMetaSimulatorOptions _options;
    private readonly SimulatedTso _tso;
    private readonly int[] _channelUse;
    private readonly Dictionary<string, SimulatedDatabase> _databases = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Db, string Name), CollectionRecord> _collections = [];

    public SourceMetaSimulator(ISourceMetaWriter etcd, SourceMetaSimulatorOptions? options = null, TimeProvider? time = null)
    {
        _etcd = etcd;
        _options = options ?? new SourceMetaSimulatorOptions();
        if (_options.DmlChannelNum < 1) throw new ArgumentOutOfRangeException(nameof(options), "DmlChannelNum must be positive");
        Layout = new SourceMetaLayout(_options.RootPath, _options.MetaSubPath);
        _tso = new SimulatedTso(time ?? TimeProvider.System);
        _channelUse = new int[_options.DmlChannelNum];
    }

    /// <summary>The key layout written (the reader of the same rootPath/metaSubPath reads it).</summary>
    public SourceMetaLayout Layout { get; }

    /// <summary>The DML channel (MQ topic) names: <c>&lt;cluster&gt;-rootcoord-dml_&lt;i&gt;</c>.</summary>
    public IReadOnlyList<string> PhysicalChannels =>
        [.. Enumerable.Range(0, _options.DmlChannelNum).Select(i => $"{_options.ClusterPrefix}-rootcoord-dml_{i}")];

    /// <summary>The last etcd revision this simulator wrote.</summary>
    public long Revision { get; private set; }

    /// <summary>What the root coordinator does at its first start: writes the default database (id 1, "default").</summary>
    public async Task<SimulatedDatabase> StartAsync(CancellationToken cancellationToken)
    {
        if (_databases.TryGetValue("default", out var existing)) return existing;
        return await WriteDatabaseAsync(1, "default", new Dictionary<string, string>(), cancellationToken);
    }

    public async Task<SimulatedDatabase> CreateDatabaseAsync(
        string name, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? properties = null)
    {
        if (_databases.ContainsKey(name)) throw new InvalidOperationException($"database {name} already exists");
        return await WriteDatabaseAsync(_tso.NextId(), name, properties ?? new Dictionary<string, string>(), cancellationToken);
    }

    public async Task DropDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        var db = Database(name);
        if (_collections.Keys.Any(k => k.Db == name)) throw new InvalidOperationException($"database {name} still has collections");
        await RemoveAsync(Layout.DatabaseKey(db.Id), _tso.Next(), cancellationToken);
        _databases.Remove(name);
    }

    /// <summary>A whole CreateCollection: <see cref="BeginCreateCollectionAsync"/>, then <see cref="CompleteCreateCollectionAsync"/>.</summary>
    public async Task<SimulatedCollection> CreateCollectionAsync(
        string database, string name, SimulatedSchema schema, CancellationToken cancellationToken,
        int shards = 1, ConsistencyLevel consistency = ConsistencyLevel.Bounded,
        IReadOnlyDictionary<string, string>? properties = null, Func<string, SourceMessageId>? startPosition = null)
    {
        var collection = await BeginCreateCollectionAsync(database, name, schema, cancellationToken, shards, consistency, properties, startPosition);
        await CompleteCreateCollectionAsync(collection, cancellationToken);
        return collection;
    }

    /// <summary>
    /// The first half of CreateCollection: collection-info in state Creating, then partitions, fields and functions.
    /// <paramref name="startPosition"/> gives the message id (Kafka offset or Pulsar MessageIdData) the collection starts
    /// after on each physical channel (its start position; by default Kafka offset 0).
    /// </summary>
    public async Task<SimulatedCollection> BeginCreateCollectionAsync(
        string database, string name, SimulatedSchema schema, CancellationToken cancellationToken,
        int shards = 1, ConsistencyLevel consistency = ConsistencyLevel.Bounded,
        IReadOnlyDictionary<string, string>? properties = null, Func<string, SourceMessageId>? startPosition = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shards, _options.DmlChannelNum);
        var db = Database(database);
        if (_collections.ContainsKey((database, name))) throw new InvalidOperationException($"collection {database}.{name} already exists");

        var ts = _tso.Next();
        var collectionId = _tso.NextId();
        var fields = AssignFieldIds(schema);
        var functions = AssignFunctionIds(schema, fields);
        var pchannels = AllocateChannels(shards);
        var vchannels = pchannels.Select((p, shard) => $"{p}_{collectionId}v{shard}").ToList();
        var starts = pchannels.ToDictionary(p => p, p => startPosition?.Invoke(p) ?? new KafkaOffset(0), StringComparer.Ordinal);

        var info = new CollectionInfo
        {
            ID = collectionId,
            DbId = db.Id,
            Schema = new CollectionSchema
            {
                Name = name,
                Description = schema.Description,
                EnableDynamicField = schema.EnableDynamicField,
            },
            CreateTime = ts.Value,
            VirtualChannelNames = { vchannels },
            PhysicalChannelNames = { pchannels },
            ShardsNum = shards,
            StartPositions = { pchannels.Select(p => new KeyDataPair { Key = p, Data = ByteString.CopyFrom(SourceMessageIdCodec.ToBytes(starts[p])) }) },
            ConsistencyLevel = consistency,
            State = CollectionState.CollectionCreating,
            Properties = { (properties ?? new Dictionary<string, string>()).Select(p => new KeyValuePair { Key = p.Key, Value = p.Value }) },
        };
        var partitionKey = schema.Fields.Any(f => f.IsPartitionKey);
        var partitionNames = partitionKey
            ? Enumerable.Range(0, _options.PartitionKeyPartitions).Select(i => $"_default_{i}").ToList()
            : ["_default"];
        var partitions = partitionNames
            .Select(n => new PartitionInfo
            {
                PartitionID = _tso.NextId(),
                PartitionName = n,
                PartitionCreatedTimestamp = ts.Value,
                CollectionId = collectionId,
                State = PartitionState.PartitionCreated,
            })
            .ToList();

        var record = new CollectionRecord(db, info, ts);
        _collections[(database, name)] = record;
        await PutAsync(Layout.CollectionKey(db.Id, collectionId), info, ts, cancellationToken);
        foreach (var partition in partitions)
        {
            await PutAsync(Layout.PartitionKey(collectionId, partition.PartitionID), partition, ts, cancellationToken);
            record.Partitions[partition.PartitionName] = partition;
        }
        foreach (var field in fields)
        {
            await PutAsync(Layout.FieldKey(collectionId, field.FieldID), field, ts, cancellationToken);
            record.FieldIds.Add(field.FieldID);
        }
        foreach (var function in functions)
        {
            await PutAsync(Layout.FunctionKey(collectionId, function.Id), function, ts, cancellationToken);
            record.FunctionIds.Add(function.Id);
        }

        return new SimulatedCollection(
            collectionId, db.Id, db.Name, name, vchannels, pchannels, starts,
            [.. partitions.Select(p => new SimulatedPartition(p.PartitionID, collectionId, p.PartitionName, ts))],
            fields.ToDictionary(f => f.Name, f => f.FieldID, StringComparer.Ordinal),
            [.. functions.Select(f => f.Id)],
            ts);
    }

    /// <summary>The second half of CreateCollection: collection-info in state Created.</summary>
    public async Task CompleteCreateCollectionAsync(SimulatedCollection collection, CancellationToken cancellationToken)
    {
        var record = Collection(collection.DbName, collection.Name);
        record.Info.State = CollectionState.CollectionCreated;
        await PutAsync(Layout.CollectionKey(record.Db.Id, record.Info.ID), record.Info, _tso.Next(), cancellationToken);
    }

    /// <summary>
    /// What Milvus does when a CreateCollection fails after its first half: the undo step removes the collection's
    /// metadata like a drop's garbage collection (so collection-info gets a tombstone while it says Creating).
    /// </summary>
    public async Task RollBackCreateCollectionAsync(SimulatedCollection collection, CancellationToken cancellationToken)
    {
        var record = Collection(collection.DbName, collection.Name);
        if (record.Info.State != CollectionState.CollectionCreating)
            throw new InvalidOperationException($"collection {collection.Name} is {record.Info.State}, not creating");
        await RemoveCollectionMetaAsync(record, _tso.Next(), cancellationToken);
        _collections.Remove((collection.DbName, collection.Name));
        ReleaseChannels(record);
    }

    /// <summary>DropCollection: state Dropping, then garbage collection writes the tombstones.</summary>
    public async Task DropCollectionAsync(string database, string name, CancellationToken cancellationToken)
    {
        var record = Collection(database, name);
        var ts = _tso.Next();
        record.Info.State = CollectionState.CollectionDropping;
        await PutAsync(Layout.CollectionKey(record.Db.Id, record.Info.ID), record.Info, ts, cancellationToken);
        await RemoveCollectionMetaAsync(record, _tso.Next(), cancellationToken);
        _collections.Remove((database, name));
        ReleaseChannels(record);
    }

    public async Task<SimulatedPartition> CreatePartitionAsync(
        string database, string collection, string partition, CancellationToken cancellationToken)
    {
        var record = Collection(database, collection);
        if (record.Partitions.ContainsKey(partition)) throw new InvalidOperationException($"partition {partition} already exists");
        var ts = _tso.Next();
        var info = new PartitionInfo
        {
            PartitionID = _tso.NextId(),
            PartitionName = partition,
            PartitionCreatedTimestamp = ts.Value,
            CollectionId = record.Info.ID,
            State = PartitionState.PartitionCreating,
        };
        var key = Layout.PartitionKey(record.Info.ID, info.PartitionID);
        await PutAsync(key, info, ts, cancellationToken);
        info.State = PartitionState.PartitionCreated;
        await PutAsync(key, info, _tso.Next(), cancellationToken);
        record.Partitions[partition] = info;
        return new SimulatedPartition(info.PartitionID, record.Info.ID, partition, ts);
    }

    public async Task DropPartitionAsync(string database, string collection, string partition, CancellationToken cancellationToken)
    {
        var record = Collection(database, collection);
        if (!record.Partitions.Remove(partition, out var info)) throw new InvalidOperationException($"no partition {partition}");
        var key = Layout.PartitionKey(record.Info.ID, info.PartitionID);
        info.State = PartitionState.PartitionDropping;
        await PutAsync(key, info, _tso.Next(), cancellationToken);
        await RemoveAsync(key, _tso.Next(), cancellationToken);
    }

    /// <summary>Writes a raw field key, e.g. to test how readers treat unusual fields.</summary>
    public Task PutFieldAsync(long collectionId, FieldSchema field, CancellationToken cancellationToken) =>
        PutAsync(Layout.FieldKey(collectionId, field.FieldID), field, _tso.Next(), cancellationToken);

    private async Task<SimulatedDatabase> WriteDatabaseAsync(
        long id, string name, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken)
    {
        var ts = _tso.Next();
        var info = new DatabaseInfo
        {
            TenantId = "",
            Name = name,
            Id = id,
            State = DatabaseState.DatabaseCreated,
            CreatedTime = ts.Value,
            Properties = { properties.Select(p => new KeyValuePair { Key = p.Key, Value = p.Value }) },
        };
        await PutAsync(Layout.DatabaseKey(id), info, ts, cancellationToken);
        var db = new SimulatedDatabase(id, name, ts);
        _databases[name] = db;
        return db;
    }

    /// <summary>Milvus' kv catalog DropCollection: partitions, fields and functions first, collection-info last.</summary>
    private async Task RemoveCollectionMetaAsync(CollectionRecord record, HybridTimestamp ts, CancellationToken cancellationToken)
    {
        var id = record.Info.ID;
        foreach (var partition in record.Partitions.Values)
        {
            await RemoveAsync(Layout.PartitionKey(id, partition.PartitionID), ts, cancellationToken);
        }
        foreach (var fieldId in record.FieldIds)
        {
            await RemoveAsync(Layout.FieldKey(id, fieldId), ts, cancellationToken);
        }
        foreach (var functionId in record.FunctionIds)
        {
            await RemoveAsync(Layout.FunctionKey(id, functionId), ts, cancellationToken);
        }
        await RemoveAsync(Layout.CollectionKey(record.Db.Id, id), ts, cancellationToken);
    }

    /// <summary>
    /// Milvus' createCollectionTask: user fields numbered from 100 in order, <c>$meta</c> (JSON, is_dynamic) after
    /// them when the schema is dynamic, then the system fields RowID (0) and Timestamp (1).
    /// </summary>
    private static List<FieldSchema> AssignFieldIds(SimulatedSchema schema)
    {
        var fields = schema.Fields.Select(f => f.Clone()).ToList();
        if (schema.EnableDynamicField)
            fields.Add(new FieldSchema { Name = "$meta", Description = "dynamic schema", DataType = DataType.Json, IsDynamic = true });
        for (var i = 0; i < fields.Count; i++)
        {
            fields[i].FieldID = 100 + i;
        }
        fields.Add(new FieldSchema { FieldID = 0, Name = "RowID", Description = "row id", DataType = DataType.Int64 });
        fields.Add(new FieldSchema { FieldID = 1, Name = "Timestamp", Description = "time stamp", DataType = DataType.Int64 });
        return fields;
    }

    /// <summary>Functions numbered from 100 (StartOfUserFunctionID), with their input and output field ids filled in.</summary>
    private static List<FunctionSchema> AssignFunctionIds(SimulatedSchema schema, List<FieldSchema> fields)
    {
        var ids = fields.ToDictionary(f => f.Name, f => f.FieldID, StringComparer.Ordinal);
        var functions = schema.Functions.Select(f => f.Clone()).ToList();
        for (var i = 0; i < functions.Count; i++)
        {
            var function = functions[i];
            function.Id = 100 + i;
            function.InputFieldIds.Clear();
            function.InputFieldIds.AddRange(function.InputFieldNames.Select(n => ids[n]));
            function.OutputFieldIds.Clear();
            function.OutputFieldIds.AddRange(function.OutputFieldNames.Select(n => ids[n]));
        }
        return functions;
    }

    /// <summary>Milvus' dmlChannels: the least used physical channels, lowest index first on a tie.</summary>
    private List<string> AllocateChannels(int count)
    {
        var chosen = Enumerable.Range(0, _channelUse.Length).OrderBy(i => _channelUse[i]).ThenBy(i => i).Take(count).ToList();
        foreach (var i in chosen) _channelUse[i]++;
        return [.. chosen.Select(i => $"{_options.ClusterPrefix}-rootcoord-dml_{i}")];
    }

    private void ReleaseChannels(CollectionRecord record)
    {
        foreach (var pchannel in record.Info.PhysicalChannelNames)
        {
            _channelUse[int.Parse(pchannel[(pchannel.LastIndexOf('_') + 1)..], System.Globalization.CultureInfo.InvariantCulture)]--;
        }
    }

    private SimulatedDatabase Database(string name) =>
        _databases.TryGetValue(name, out var db) ? db
        : name == "default" ? new SimulatedDatabase(1, "default", HybridTimestamp.Zero)
        : throw new InvalidOperationException($"database {name} does not exist");

    private CollectionRecord Collection(string database, string name) =>
        _collections.TryGetValue((database, name), out var record) ? record
        : throw new InvalidOperationException($"collection {database}.{name} does not exist");

    private Task PutAsync(string key, IMessage value, HybridTimestamp ts, CancellationToken cancellationToken) =>
        WriteAsync(key, value.ToByteArray(), ts, cancellationToken);

    private Task RemoveAsync(string key, HybridTimestamp ts, CancellationToken cancellationToken) =>
        WriteAsync(key, MetaTombstone.ToArray(), ts, cancellationToken);

    private async Task WriteAsync(string key, byte[] value, HybridTimestamp ts, CancellationToken cancellationToken)
    {
        Revision = await _etcd.PutAsync(key, value, cancellationToken);
        if (_options.WriteSnapshotHistory)
            Revision = await _etcd.PutAsync(Layout.SnapshotKey(key, ts.Value), value, cancellationToken);
    }

    private sealed class CollectionRecord(SimulatedDatabase db, CollectionInfo info, HybridTimestamp createdTimestamp)
    {
        public SimulatedDatabase Db { get; } = db;
        public CollectionInfo Info { get; } = info;
        public HybridTimestamp CreatedTimestamp { get; } = createdTimestamp;
        public Dictionary<string, PartitionInfo> Partitions { get; } = new(StringComparer.Ordinal);
        public List<long> FieldIds { get; } = [];
        public List<long> FunctionIds { get; } = [];
    }
}
