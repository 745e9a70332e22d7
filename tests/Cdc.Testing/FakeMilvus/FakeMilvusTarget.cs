using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// The in-memory Milvus behind the fake server: databases, collections (with channels, partitions, indexes, load
/// state) and their rows, written by replicated Insert/Delete messages or by the normal DML RPCs (Upsert, Delete; see
/// FakeMilvusTarget.Dml.cs), read by Query. Handlers answer like Milvus 2.4/2.5 do. All access is under one lock.
/// </summary>
internal sealed partial class FakeMilvusTarget(FakeMilvusOptions options)
{
    public const string DefaultDatabase = "default";
    public const string DefaultPartition = "_default";

    /// <summary>Reads only the header: the rest of a message (an Insert's columns) is skipped, not copied.</summary>
    private static readonly MessageParser<MsgHeader> HeaderParser = MsgHeader.Parser.WithDiscardUnknownFields(true);

    private readonly object _gate = new();
    private readonly Dictionary<string, DatabaseState> _databases = new(StringComparer.Ordinal)
    {
        [DefaultDatabase] = new DatabaseState(1, DefaultDatabase),
    };
    private readonly Dictionary<string, long> _channelOffsets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _lastTicks = new(StringComparer.Ordinal);
    private readonly List<FakeTimeViolation> _timeViolations = [];
    private long _nextId = 450_000_000_000_000_000;
    private int _nextChannel;

    public bool TtMsgEnabled { get; set; } = options.TtMsgEnabled;

    public IReadOnlyList<string> Databases
    {
        get
        {
            lock (_gate)
            {
                return [.. _databases.Keys];
            }
        }
    }

    public IReadOnlyList<FakeCollection> Collections
    {
        get
        {
            lock (_gate)
            {
                return [.. _databases.Values.SelectMany(db => db.Collections.Values).Select(c => c.Snapshot())];
            }
        }
    }

    public IReadOnlyList<FakeRow> Rows(string database, string collection)
    {
        lock (_gate)
        {
            var found = Find(database, collection) ?? throw new KeyNotFoundException($"no collection {database}.{collection} on the fake target");
            return [.. found.Rows.Values.SelectMany(rows => rows)];
        }
    }

    /// <summary>Every message that arrived out of its pchannel's time order (see <see cref="FakeTimeViolation"/>).</summary>
    public IReadOnlyList<FakeTimeViolation> TimeViolations
    {
        get
        {
            lock (_gate)
            {
                return [.. _timeViolations];
            }
        }
    }

    /// <summary>The highest time tick each target pchannel received.</summary>
    public IReadOnlyDictionary<string, ulong> LastTicks
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, ulong>(_lastTicks, StringComparer.Ordinal);
            }
        }
    }

    public IReadOnlyDictionary<string, string> DatabaseProperties(string database)
    {
        lock (_gate)
        {
            return new Dictionary<string, string>(_databases[database].Properties);
        }
    }

    public IMessage Handle(string method, IMessage request, string? dbFromMetadata)
    {
        // A replicated pack is decoded before the target's lock is taken: decoding touches no state, and 16 channels'
        // 3 MB Inserts decoded one at a time under the lock made the fake, not the CDC, the bottleneck of a benchmark.
        var pack = request is Rpc.ReplicateMessageRequest replicate ? Decode(replicate, options.ApplyRows) : null;
        lock (_gate)
        {
            return method switch
            {
                "ReplicateMessage" => Replicate((Rpc.ReplicateMessageRequest)request, pack),
                "CreateCollection" => CreateCollection((Rpc.CreateCollectionRequest)request, Db(dbFromMetadata, ((Rpc.CreateCollectionRequest)request).DbName)),
                "DescribeCollection" => Describe((Rpc.DescribeCollectionRequest)request, Db(dbFromMetadata, ((Rpc.DescribeCollectionRequest)request).DbName)),
                "HasCollection" => new Rpc.BoolResponse
                {
                    Status = Ok(),
                    Value = Db(dbFromMetadata, ((Rpc.HasCollectionRequest)request).DbName).Collections.ContainsKey(((Rpc.HasCollectionRequest)request).CollectionName),
                },
                "DropCollection" => DropCollection((Rpc.DropCollectionRequest)request, Db(dbFromMetadata, ((Rpc.DropCollectionRequest)request).DbName)),
                "CreatePartition" => CreatePartition((Rpc.CreatePartitionRequest)request, dbFromMetadata),
                "ShowPartitions" => ShowPartitions((Rpc.ShowPartitionsRequest)request, dbFromMetadata),
                "DropPartition" => DropPartition((Rpc.DropPartitionRequest)request, dbFromMetadata),
                "CreateIndex" => CreateIndex((Rpc.CreateIndexRequest)request, dbFromMetadata),
                "DropIndex" => DropIndex((Rpc.DropIndexRequest)request, dbFromMetadata),
                "AlterIndex" => AlterIndex((Rpc.AlterIndexRequest)request, dbFromMetadata),
                "LoadCollection" => SetLoaded(Collection(dbFromMetadata, ((Rpc.LoadCollectionRequest)request).DbName, ((Rpc.LoadCollectionRequest)request).CollectionName), true),
                "ReleaseCollection" => SetLoaded(Collection(dbFromMetadata, ((Rpc.ReleaseCollectionRequest)request).DbName, ((Rpc.ReleaseCollectionRequest)request).CollectionName), false),
                "LoadPartitions" => LoadPartitions((Rpc.LoadPartitionsRequest)request, dbFromMetadata),
                "ReleasePartitions" => ReleasePartitions((Rpc.ReleasePartitionsRequest)request, dbFromMetadata),
                "Flush" => Flush((Rpc.FlushRequest)request, dbFromMetadata),
                "CreateDatabase" => CreateDatabase((Rpc.CreateDatabaseRequest)request, dbFromMetadata),
                "ListDatabases" => ListDatabases(),
                "DropDatabase" => DropDatabase((Rpc.DropDatabaseRequest)request, dbFromMetadata),
                "AlterDatabase" => AlterDatabase((Rpc.AlterDatabaseRequest)request, dbFromMetadata),
                "Upsert" => Upsert((Rpc.UpsertRequest)request, dbFromMetadata),
                "Delete" => Delete((Rpc.DeleteRequest)request, dbFromMetadata),
                "Query" => Query((Rpc.QueryRequest)request, dbFromMetadata),
                _ => throw new InvalidOperationException($"no handler for {method}"),
            };
        }
    }

    public static Status Ok() => new();

    public static Status Error(int code, string reason, bool retriable) => new()
    {
#pragma warning disable CS0612 // Milvus still fills the legacy code next to the new one.
        ErrorCode = code == FakeMilvusError.CollectionNotFound ? ErrorCode.CollectionNotExists : ErrorCode.UnexpectedError,
#pragma warning restore CS0612
        Code = code,
        Reason = reason,
        Retriable = retriable,
        Detail = reason,
    };

    /// <param name="messages">the request's messages as <see cref="Decode"/> gave them (null: one did not decode).</param>
    private Rpc.ReplicateMessageResponse Replicate(Rpc.ReplicateMessageRequest request, IReadOnlyList<IMessage>? messages)
    {
        if (TtMsgEnabled)
        {
            throw new FakeMilvusError(FakeMilvusError.ReplicateDenied, "deny to use the replicate message in the normal instance");
        }

        if (request.ChannelName.Length == 0)
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "invalid parameter[expected=non-empty channel name][actual=]");
        }

        if (request.ChannelName == options.ReplicateChannel)
        {
            return new Rpc.ReplicateMessageResponse { Status = Ok(), Position = Position(request.ChannelName, advance: false) };
        }

        // Every message decoded before any is applied, as the proxy builds the whole pack first.
        if (messages is null)
        {
            throw new FakeMilvusError(FakeMilvusError.InvalidMsgBytes, "invalid replicate msg bytes");
        }

        // The channel's time as its consumers would see it, kept only if the whole request is taken.
        var time = new ChannelTime(request.ChannelName, _lastTicks.GetValueOrDefault(request.ChannelName));
        foreach (var message in messages)
        {
            switch (message)
            {
                case TimeTickMsg tick:
                    time.Tick(tick.Base.Timestamp);
                    break;
                case InsertRequest insert:
                    time.Data("Insert", insert.Timestamps.Append(insert.Base.Timestamp));
                    ApplyInsert(insert);
                    break;
                case InsertTimes insert:
                    time.Data("Insert", insert.Timestamps.Append(insert.Base!.Timestamp));
                    break;
                case DeleteRequest delete:
                    time.Data("Delete", delete.Timestamps.Append(delete.Base.Timestamp));
                    if (options.ApplyRows)
                    {
                        ApplyDelete(delete);
                    }

                    break;
                case MsgHeader other:
                    time.Data(other.Base.MsgType.ToString(), [other.Base.Timestamp]);
                    break;
            }

            Position(request.ChannelName, advance: true);
        }

        Commit(time);
        return new Rpc.ReplicateMessageResponse { Status = Ok(), Position = Position(request.ChannelName, advance: false) };
    }

    /// <summary>
    /// The messages of a ReplicateMessage request, each decoded by its header's type (TimeTick, Insert, Delete; any
    /// other as its header), or null when one does not decode. Without <paramref name="applyRows"/> an Insert is read
    /// only for its base and timestamps (<see cref="InsertTimes"/>).
    /// </summary>
    private static List<IMessage>? Decode(Rpc.ReplicateMessageRequest request, bool applyRows)
    {
        var messages = new List<IMessage>(request.Msgs.Count);
        try
        {
            foreach (var bytes in request.Msgs)
            {
                var header = HeaderParser.ParseFrom(bytes);
                if (header.Base is null)
                {
                    return null;
                }

                messages.Add(header.Base.MsgType switch
                {
                    MsgType.TimeTick => TimeTickMsg.Parser.ParseFrom(bytes),
                    MsgType.Insert when applyRows => InsertRequest.Parser.ParseFrom(bytes),
                    MsgType.Insert => InsertTimes.Parser.ParseFrom(bytes),
                    MsgType.Delete => DeleteRequest.Parser.ParseFrom(bytes),
                    _ => header,
                });
            }
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }

        return messages;
    }

    /// <summary>
    /// A replicated drop, which Milvus writes to every pchannel of the collection: its timestamp (the one the caller
    /// gives in base.replicateInfo.msgTimestamp) must be above each channel's last tick.
    /// </summary>
    private void DropOnChannels(string kind, MsgBase? requestBase, IEnumerable<string> pchannels)
    {
        if (requestBase?.ReplicateInfo is not { IsReplicate: true } replicated)
        {
            return;
        }

        foreach (var pchannel in pchannels.Distinct(StringComparer.Ordinal))
        {
            var time = new ChannelTime(pchannel, _lastTicks.GetValueOrDefault(pchannel));
            time.Data(kind, [replicated.MsgTimestamp]);
            Commit(time);
        }
    }

    private void Commit(ChannelTime time)
    {
        _lastTicks[time.Channel] = time.LastTick;
        _timeViolations.AddRange(time.Violations);
    }

    /// <summary>One pchannel's time while a request is checked: the last tick, and what arrived out of order.</summary>
    private sealed class ChannelTime(string channel, ulong lastTick)
    {
        public string Channel { get; } = channel;

        public ulong LastTick { get; private set; } = lastTick;

        public List<FakeTimeViolation> Violations { get; } = [];

        public void Tick(ulong timestamp)
        {
            if (timestamp < LastTick)
            {
                Violations.Add(new FakeTimeViolation(Channel, "TimeTick", timestamp, LastTick));
                return;
            }

            LastTick = timestamp;
        }

        /// <summary>An Insert, Delete or drop: each of its timestamps (0 is "not set") must be above the last tick.</summary>
        public void Data(string kind, IEnumerable<ulong> timestamps)
        {
            var lowest = timestamps.Where(t => t != 0).DefaultIfEmpty(ulong.MaxValue).Min();
            if (lowest <= LastTick)
            {
                Violations.Add(new FakeTimeViolation(Channel, kind, lowest, LastTick));
            }
        }
    }

    private void ApplyInsert(InsertRequest insert)
    {
        var collection = FindById(insert.CollectionID) ?? throw FakeMilvusError.CollectionMissing(insert.CollectionName);
        var primary = collection.Schema.Fields.FirstOrDefault(f => f.IsPrimaryKey)
            ?? throw new FakeMilvusError(FakeMilvusError.Unexpected, "collection has no primary key field");
        var column = insert.FieldsData.FirstOrDefault(f => f.FieldName == primary.Name || (f.FieldId != 0 && f.FieldId == primary.FieldID))
            ?? throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"primary key field {primary.Name} missing in insert");
        IReadOnlyList<object> keys = column.Scalars?.DataCase switch
        {
            ScalarField.DataOneofCase.LongData => [.. column.Scalars.LongData.Data.Cast<object>()],
            ScalarField.DataOneofCase.StringData => [.. column.Scalars.StringData.Data.Cast<object>()],
            _ => throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "primary key column is neither int64 nor string"),
        };

        var partitionId = insert.PartitionID != 0 ? insert.PartitionID : collection.Partitions[DefaultPartition];
        if (!collection.Partitions.ContainsValue(partitionId))
        {
            throw new FakeMilvusError(FakeMilvusError.PartitionNotFound, $"partition not found[partition={partitionId}]");
        }

        if (!collection.VirtualChannels.Contains(insert.ShardName))
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"invalid parameter[expected=a vchannel of the collection][actual={insert.ShardName}]");
        }

        // A replicated Insert replaces the rows of its keys (a real Milvus would keep both: a row sent twice is counted
        // twice by count(*), which is what apply mode "upsert" avoids).
        for (var i = 0; i < keys.Count; i++)
        {
            var ts = i < insert.Timestamps.Count ? insert.Timestamps[i] : insert.Base?.Timestamp ?? 0;
            collection.Rows[keys[i]] = [new FakeRow(keys[i], partitionId, ts) { Fields = ValuesOf(insert.FieldsData, i, keys.Count) }];
        }
    }

    private void ApplyDelete(DeleteRequest delete)
    {
        var collection = FindById(delete.CollectionID) ?? throw FakeMilvusError.CollectionMissing(delete.CollectionName);
        IEnumerable<object> keys = delete.PrimaryKeys?.IdFieldCase switch
        {
            IDs.IdFieldOneofCase.IntId => delete.PrimaryKeys.IntId.Data.Cast<object>(),
            IDs.IdFieldOneofCase.StrId => delete.PrimaryKeys.StrId.Data.Cast<object>(),
            _ => delete.Int64PrimaryKeys.Cast<object>(),
        };
        foreach (var key in keys)
        {
            RemoveRows(collection, key, delete.PartitionName.Length == 0 ? null : delete.PartitionID);
        }
    }

    private string Position(string channel, bool advance)
    {
        var offset = _channelOffsets.GetValueOrDefault(channel);
        if (advance)
        {
            _channelOffsets[channel] = ++offset;
        }

        return Convert.ToBase64String(BitConverter.GetBytes(offset));
    }

    private Status CreateCollection(Rpc.CreateCollectionRequest request, DatabaseState db)
    {
        if (db.Collections.ContainsKey(request.CollectionName))
        {
            return Ok();
        }

        CollectionSchema schema;
        try
        {
            schema = CollectionSchema.Parser.ParseFrom(request.Schema);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "invalid parameter[expected=a serialized CollectionSchema][actual=undecodable]");
        }

        if (schema.Name != request.CollectionName)
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"invalid parameter[expected={request.CollectionName}][actual={schema.Name}]");
        }

        var shards = request.ShardsNum > 0 ? request.ShardsNum : 1;
        var id = ++_nextId;
        var pchannels = Enumerable.Range(0, shards)
            .Select(_ => $"{options.ChannelPrefix}_{_nextChannel++ % options.DmlChannelNum}")
            .ToList();
        var vchannels = pchannels.Select((p, i) => $"{p}_{id}v{i}").ToList();
        var collection = new CollectionState(db.Name, request.CollectionName, id, shards, schema, vchannels, pchannels,
            (int)request.ConsistencyLevel, request.Properties.ToDictionary(p => p.Key, p => p.Value), request.Schema.ToByteArray(),
            options.TimeProvider.GetUtcNow());
        collection.Partitions[DefaultPartition] = ++_nextId;
        db.Collections[request.CollectionName] = collection;
        return Ok();
    }

    private Rpc.DescribeCollectionResponse Describe(Rpc.DescribeCollectionRequest request, DatabaseState db)
    {
        var collection = db.Collections.GetValueOrDefault(request.CollectionName)
            ?? (request.CollectionID != 0 ? db.Collections.Values.FirstOrDefault(c => c.Id == request.CollectionID) : null)
            ?? throw FakeMilvusError.CollectionMissing(request.CollectionName);
        var response = new Rpc.DescribeCollectionResponse
        {
            Status = Ok(),
            Schema = collection.Schema,
            CollectionID = collection.Id,
            CollectionName = collection.Name,
            DbName = collection.DbName,
            DbId = db.Id,
            ShardsNum = collection.ShardsNum,
            ConsistencyLevel = (ConsistencyLevel)collection.ConsistencyLevel,
            CreatedTimestamp = (ulong)collection.CreatedAt.ToUnixTimeMilliseconds() << 18,
            CreatedUtcTimestamp = (ulong)collection.CreatedAt.ToUnixTimeMilliseconds(),
            NumPartitions = collection.Partitions.Count,
        };
        response.VirtualChannelNames.AddRange(collection.VirtualChannels);
        response.PhysicalChannelNames.AddRange(collection.PhysicalChannels);
        response.Properties.AddRange(collection.Properties.Select(p => new Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair { Key = p.Key, Value = p.Value }));
        response.StartPositions.AddRange(collection.PhysicalChannels.Select(p => new KeyDataPair
        {
            Key = p,
            Data = ByteString.CopyFrom(BitConverter.GetBytes(_channelOffsets.GetValueOrDefault(p))),
        }));
        return response;
    }

    private Status DropCollection(Rpc.DropCollectionRequest request, DatabaseState db)
    {
        if (db.Collections.Remove(request.CollectionName, out var dropped))
        {
            DropOnChannels("DropCollection", request.Base, dropped.PhysicalChannels);
        }

        return Ok();
    }

    private Status CreatePartition(Rpc.CreatePartitionRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        if (!collection.Partitions.ContainsKey(request.PartitionName))
        {
            collection.Partitions[request.PartitionName] = ++_nextId;
        }

        return Ok();
    }

    private Rpc.ShowPartitionsResponse ShowPartitions(Rpc.ShowPartitionsRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        var response = new Rpc.ShowPartitionsResponse { Status = Ok() };
        foreach (var (name, id) in collection.Partitions)
        {
            response.PartitionNames.Add(name);
            response.PartitionIDs.Add(id);
        }

        return response;
    }

    private Status DropPartition(Rpc.DropPartitionRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        if (request.PartitionName == DefaultPartition)
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "invalid parameter[expected=not the default partition][actual=_default]");
        }

        if (collection.Partitions.Remove(request.PartitionName, out var id))
        {
            DropOnChannels("DropPartition", request.Base, collection.PhysicalChannels);
            foreach (var key in collection.Rows.Where(r => r.Value.Any(row => row.PartitionId == id)).Select(r => r.Key).ToList())
            {
                RemoveRows(collection, key, id);
            }
        }

        return Ok();
    }

    private Status CreateIndex(Rpc.CreateIndexRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        if (!collection.Schema.Fields.Any(f => f.Name == request.FieldName))
        {
            throw new FakeMilvusError(1700, $"field not found[field={request.FieldName}]");
        }

        var name = request.IndexName.Length > 0 ? request.IndexName : request.FieldName;
        collection.Indexes[name] = new FakeIndex(request.FieldName, name, request.ExtraParams.ToDictionary(p => p.Key, p => p.Value));
        return Ok();
    }

    private Status DropIndex(Rpc.DropIndexRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        var name = request.IndexName.Length > 0 ? request.IndexName : request.FieldName;
        collection.Indexes.Remove(name);
        return Ok();
    }

    private Status AlterIndex(Rpc.AlterIndexRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        if (!collection.Indexes.TryGetValue(request.IndexName, out var index))
        {
            throw new FakeMilvusError(FakeMilvusError.IndexNotFound, $"index not found[indexName={request.IndexName}]");
        }

        var parameters = new Dictionary<string, string>(index.Parameters);
        foreach (var pair in request.ExtraParams)
        {
            parameters[pair.Key] = pair.Value;
        }

        foreach (var key in request.DeleteKeys)
        {
            parameters.Remove(key);
        }

        collection.Indexes[request.IndexName] = index with { Parameters = parameters };
        return Ok();
    }

    private static Status SetLoaded(CollectionState collection, bool loaded)
    {
        collection.IsLoaded = loaded;
        if (!loaded)
        {
            collection.LoadedPartitions.Clear();
        }

        return Ok();
    }

    private Status LoadPartitions(Rpc.LoadPartitionsRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        foreach (var name in request.PartitionNames)
        {
            if (!collection.Partitions.ContainsKey(name))
            {
                throw new FakeMilvusError(FakeMilvusError.PartitionNotFound, $"partition not found[partition={name}]");
            }

            collection.LoadedPartitions.Add(name);
        }

        return Ok();
    }

    private Status ReleasePartitions(Rpc.ReleasePartitionsRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        foreach (var name in request.PartitionNames)
        {
            collection.LoadedPartitions.Remove(name);
        }

        return Ok();
    }

    private Rpc.FlushResponse Flush(Rpc.FlushRequest request, string? dbFromMetadata)
    {
        var db = Db(dbFromMetadata, request.DbName);
        var response = new Rpc.FlushResponse { Status = Ok(), DbName = db.Name };
        foreach (var name in request.CollectionNames)
        {
            var collection = db.Collections.GetValueOrDefault(name) ?? throw FakeMilvusError.CollectionMissing(name);
            response.CollSegIDs[name] = new LongArray();
            foreach (var (vchannel, pchannel) in collection.VirtualChannels.Zip(collection.PhysicalChannels))
            {
                response.ChannelCps[vchannel] = new MsgPosition
                {
                    ChannelName = vchannel,
                    MsgID = ByteString.CopyFrom(BitConverter.GetBytes(_channelOffsets.GetValueOrDefault(pchannel))),
                };
            }
        }

        return response;
    }

    private Status CreateDatabase(Rpc.CreateDatabaseRequest request, string? dbFromMetadata)
    {
        var name = request.DbName.Length > 0 ? request.DbName : dbFromMetadata ?? "";
        if (name.Length == 0)
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "invalid database name[database=]");
        }

        if (_databases.ContainsKey(name))
        {
            throw new FakeMilvusError(FakeMilvusError.Unexpected, $"database already exist: {name}");
        }

        var db = new DatabaseState(++_nextId, name);
        foreach (var pair in request.Properties)
        {
            db.Properties[pair.Key] = pair.Value;
        }

        _databases[name] = db;
        return Ok();
    }

    private Rpc.ListDatabasesResponse ListDatabases()
    {
        var response = new Rpc.ListDatabasesResponse { Status = Ok() };
        foreach (var db in _databases.Values)
        {
            response.DbNames.Add(db.Name);
            response.DbIds.Add(db.Id);
        }

        return response;
    }

    private Status DropDatabase(Rpc.DropDatabaseRequest request, string? dbFromMetadata)
    {
        var name = request.DbName.Length > 0 ? request.DbName : dbFromMetadata ?? "";
        if (name == DefaultDatabase)
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "can not drop default database");
        }

        if (_databases.TryGetValue(name, out var db) && db.Collections.Count > 0)
        {
            throw new FakeMilvusError(FakeMilvusError.Unexpected, $"database:{name} not empty, must drop all collections before drop database");
        }

        _databases.Remove(name);
        return Ok();
    }

    private Status AlterDatabase(Rpc.AlterDatabaseRequest request, string? dbFromMetadata)
    {
        var db = Db(request.DbName.Length > 0 ? request.DbName : dbFromMetadata, "");
        foreach (var pair in request.Properties)
        {
            db.Properties[pair.Key] = pair.Value;
        }

        foreach (var key in request.DeleteKeys)
        {
            db.Properties.Remove(key);
        }

        return Ok();
    }

    /// <summary>The call's database: the dbname metadata wins, then the body's db_name, then "default".</summary>
    private DatabaseState Db(string? fromMetadata, string fromBody)
    {
        var name = !string.IsNullOrEmpty(fromMetadata) ? fromMetadata : fromBody.Length > 0 ? fromBody : DefaultDatabase;
        return _databases.GetValueOrDefault(name) ?? throw FakeMilvusError.DatabaseMissing(name);
    }

    private CollectionState Collection(string? dbFromMetadata, string dbFromBody, string name) =>
        Db(dbFromMetadata, dbFromBody).Collections.GetValueOrDefault(name) ?? throw FakeMilvusError.CollectionMissing(name);

    private CollectionState? Find(string database, string collection) =>
        _databases.GetValueOrDefault(database)?.Collections.GetValueOrDefault(collection);

    private CollectionState? FindById(long id) =>
        _databases.Values.SelectMany(db => db.Collections.Values).FirstOrDefault(c => c.Id == id);

    private sealed class DatabaseState(long id, string name)
    {
        public long Id { get; } = id;

        public string Name { get; } = name;

        public Dictionary<string, string> Properties { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, CollectionState> Collections { get; } = new(StringComparer.Ordinal);
    }

    private sealed class CollectionState(
        string dbName, string name, long id, int shardsNum, CollectionSchema schema, List<string> virtualChannels,
        List<string> physicalChannels, int consistencyLevel, Dictionary<string, string> properties, byte[] schemaBytes,
        DateTimeOffset createdAt)
    {
        public string DbName { get; } = dbName;
        public string Name { get; } = name;
        public long Id { get; } = id;
        public int ShardsNum { get; } = shardsNum;
        public CollectionSchema Schema { get; } = schema;
        public List<string> VirtualChannels { get; } = virtualChannels;
        public List<string> PhysicalChannels { get; } = physicalChannels;
        public int ConsistencyLevel { get; } = consistencyLevel;
        public Dictionary<string, string> Properties { get; } = properties;
        public DateTimeOffset CreatedAt { get; } = createdAt;
        public Dictionary<string, long> Partitions { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, FakeIndex> Indexes { get; } = new(StringComparer.Ordinal);
        public HashSet<string> LoadedPartitions { get; } = new(StringComparer.Ordinal);
        /// <summary>The rows by primary key: one, or several when a key was written into several partitions.</summary>
        public Dictionary<object, List<FakeRow>> Rows { get; } = [];
        public bool IsLoaded { get; set; }

        public FakeCollection Snapshot() => new(DbName, Name, Id, ShardsNum, [.. VirtualChannels], [.. PhysicalChannels],
            new Dictionary<string, long>(Partitions), [.. Indexes.Values], IsLoaded, [.. LoadedPartitions], ConsistencyLevel,
            new Dictionary<string, string>(Properties), schemaBytes);
    }
}
