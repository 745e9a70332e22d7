using System.Globalization;
using System.Text.RegularExpressions;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Testing.Milvus;
using Google.Protobuf;
using MilvusKeyValue = Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Testing.SourceSimulator;

/// <summary>
/// The message-queue half of a source Milvus, for tests: writes msgstream messages into Kafka (topic = pchannel,
/// partition 0) or Pulsar (<see cref="ISourceQueueWriter"/>) as a 2.4 or 2.5 proxy / rootcoord does (milvus-io/milvus pkg/mq/msgstream/mq_msgstream.go, internal/rootcoord/dml_channels.go): Inserts and Deletes on a vchannel's
/// pchannel, DropCollection / DropPartition broadcast on each of the collection's vchannels, TimeTicks on every known
/// pchannel, and non-DML requests on the replicate channel. Timestamps come from a <see cref="SimulatedTso"/>.
/// Calls are serialized, so the message ids and timestamps of one channel increase together.
/// </summary>
public sealed partial class SourceStreamSimulator
{
    public const string DefaultReplicateChannel = "by-dev-replicate-msg";
    private const long ProxySourceId = 1;
    private const long RootCoordSourceId = 2;

    private readonly ISourceQueueWriter _producer;
    private readonly SimulatedTso _tso;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SortedSet<string> _physicalChannels = new(StringComparer.Ordinal);
    private long _nextMsgId = 1;
    private long _nextRowId = 1;
    private long _bytesWritten;

    /// <param name="producer">Writes into the Kafka or Pulsar the reader under test reads (not disposed here).</param>
    /// <param name="version">Which message properties to set.</param>
    /// <param name="time">Drives the TSO.</param>
    /// <param name="replicateChannel">The source's replicate ("RPC") channel topic.</param>
    public SourceStreamSimulator(ISourceQueueWriter producer, SourceMilvusVersion version, TimeProvider time, string replicateChannel = DefaultReplicateChannel)
    {
        _producer = producer ?? throw new ArgumentNullException(nameof(producer));
        Version = version;
        _tso = new SimulatedTso(time ?? throw new ArgumentNullException(nameof(time)));
        ReplicateChannel = replicateChannel;
    }

    public SourceMilvusVersion Version { get; }

    public string ReplicateChannel { get; }

    /// <summary>Bytes of the message values written so far (the serialized msgstream messages).</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>The pchannels ticks go to: every one added or written to so far.</summary>
    public IReadOnlyCollection<string> PhysicalChannels
    {
        get
        {
            lock (_physicalChannels)
            {
                return [.. _physicalChannels];
            }
        }
    }

    /// <summary>The pchannel of a vchannel ("&lt;pchannel&gt;_&lt;collection&gt;v&lt;shard&gt;"), as Milvus parses it.</summary>
    public static string PhysicalChannelOf(string vchannel)
    {
        var match = VirtualChannelPattern().Match(vchannel);
        return match.Success ? match.Groups[1].Value : throw new ArgumentException($"'{vchannel}' is not a virtual channel name", nameof(vchannel));
    }

    /// <summary>Makes <paramref name="pchannel"/> one the simulator ticks.</summary>
    public void AddPhysicalChannel(string pchannel)
    {
        ArgumentException.ThrowIfNullOrEmpty(pchannel);
        lock (_physicalChannels)
        {
            _physicalChannels.Add(pchannel);
        }
    }

    /// <summary>Inserts rows (int64 keys, float vectors) into one shard, as one Insert message on its pchannel.</summary>
    public async Task<SimulatedMessage> InsertAsync(
        string vchannel, long collectionId, long partitionId, IReadOnlyList<long> pks, IReadOnlyList<float[]> vectors,
        CancellationToken cancellationToken = default, string collectionName = "books", string partitionName = "_default")
    {
        ArgumentNullException.ThrowIfNull(pks);
        ArgumentNullException.ThrowIfNull(vectors);
        if (pks.Count == 0 || vectors.Count != pks.Count)
        {
            throw new ArgumentException("an insert needs one vector per key and at least one key", nameof(vectors));
        }

        return await WriteAsync(PhysicalChannelOf(vchannel), vchannel, MsgType.Insert, produced: true, (ts, msgId) =>
        {
            var insert = MilvusMessages.Insert(collectionId, vchannel, pks, vectors[0].Length, ts.Value, partitionId, partitionName, vectors, collectionName);
            insert.Base = Base(MsgType.Insert, ts, msgId, ProxySourceId);
            insert.SegmentID = 1000 + collectionId % 1000;
            insert.RowIDs.Clear();
            insert.RowIDs.AddRange(pks.Select(_ => Interlocked.Increment(ref _nextRowId)));
            return insert;
        }, cancellationToken);
    }

    /// <summary>Deletes rows by int64 key from one shard (all partitions unless a partition name is given).</summary>
    public async Task<SimulatedMessage> DeleteAsync(
        string vchannel, long collectionId, IReadOnlyList<long> pks, CancellationToken cancellationToken = default,
        string collectionName = "books", long partitionId = -1, string partitionName = "")
    {
        ArgumentNullException.ThrowIfNull(pks);
        return await WriteAsync(PhysicalChannelOf(vchannel), vchannel, MsgType.Delete, produced: true, (ts, msgId) =>
        {
            var delete = MilvusMessages.Delete(collectionId, vchannel, pks, ts.Value, partitionId, partitionName, collectionName);
            delete.Base = Base(MsgType.Delete, ts, msgId, ProxySourceId);
            return delete;
        }, cancellationToken);
    }

    /// <summary>
    /// A 2.4 upsert: an Insert and a Delete of the same keys at one timestamp, produced together with the insert first
    /// (as the proxy's upsert task fills its pack), so a replicator must order Delete before Insert to keep the rows.
    /// </summary>
    public async Task<IReadOnlyList<SimulatedMessage>> UpsertAsync(
        string vchannel, long collectionId, long partitionId, IReadOnlyList<long> pks, IReadOnlyList<float[]> vectors,
        CancellationToken cancellationToken = default, string collectionName = "books", string partitionName = "_default")
    {
        ArgumentNullException.ThrowIfNull(pks);
        ArgumentNullException.ThrowIfNull(vectors);
        if (pks.Count == 0 || vectors.Count != pks.Count)
        {
            throw new ArgumentException("an upsert needs one vector per key and at least one key", nameof(vectors));
        }

        var pchannel = PhysicalChannelOf(vchannel);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            AddPhysicalChannel(pchannel);
            var ts = _tso.Next();
            var insert = MilvusMessages.Insert(collectionId, vchannel, pks, vectors[0].Length, ts.Value, partitionId, partitionName, vectors, collectionName);
            insert.Base = Base(MsgType.Insert, ts, Interlocked.Increment(ref _nextMsgId), ProxySourceId);
            insert.SegmentID = 1000 + collectionId % 1000;
            insert.RowIDs.Clear();
            insert.RowIDs.AddRange(pks.Select(_ => Interlocked.Increment(ref _nextRowId)));
            var delete = MilvusMessages.Delete(collectionId, vchannel, pks, ts.Value, partitionId, partitionName, collectionName);
            delete.Base = Base(MsgType.Delete, ts, Interlocked.Increment(ref _nextMsgId), ProxySourceId);
            return
            [
                await ProduceAsync(pchannel, vchannel, MsgType.Insert, produced: true, ts, insert, cancellationToken).ConfigureAwait(false),
                await ProduceAsync(pchannel, vchannel, MsgType.Delete, produced: true, ts, delete, cancellationToken).ConfigureAwait(false),
            ];
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A collection drop, broadcast (one message per vchannel, all at one timestamp) as rootcoord does.</summary>
    public Task<IReadOnlyList<SimulatedMessage>> DropCollectionAsync(
        long collectionId, IReadOnlyList<string> vchannels, CancellationToken cancellationToken = default,
        string dbName = "default", string collectionName = "books", long dbId = 1) =>
        BroadcastAsync(vchannels, MsgType.DropCollection, (ts, msgId) => new DropCollectionRequest
        {
            Base = Base(MsgType.DropCollection, ts, msgId, RootCoordSourceId),
            DbName = dbName,
            CollectionName = collectionName,
            DbID = dbId,
            CollectionID = collectionId,
        }, cancellationToken);

    /// <summary>A partition drop, broadcast on each of the collection's vchannels.</summary>
    public Task<IReadOnlyList<SimulatedMessage>> DropPartitionAsync(
        long collectionId, long partitionId, string partitionName, IReadOnlyList<string> vchannels, CancellationToken cancellationToken = default,
        string dbName = "default", string collectionName = "books", long dbId = 1) =>
        BroadcastAsync(vchannels, MsgType.DropPartition, (ts, msgId) => new DropPartitionRequest
        {
            Base = Base(MsgType.DropPartition, ts, msgId, RootCoordSourceId),
            DbName = dbName,
            CollectionName = collectionName,
            PartitionName = partitionName,
            DbID = dbId,
            CollectionID = collectionId,
            PartitionID = partitionId,
        }, cancellationToken);

    /// <summary>One TimeTick on every known pchannel, all with the same new timestamp (broadcast: 2.4 sets no property).</summary>
    public async Task<IReadOnlyList<SimulatedMessage>> TickAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ts = _tso.Next();
            var written = new List<SimulatedMessage>();
            foreach (var pchannel in PhysicalChannels)
            {
                var tick = new TimeTickMsg { Base = Base(MsgType.TimeTick, ts, 0, RootCoordSourceId) };
                written.Add(await ProduceAsync(pchannel, pchannel, MsgType.TimeTick, produced: false, ts, tick, cancellationToken).ConfigureAwait(false));
            }

            return written;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<SimulatedMessage> CreateIndexAsync(string dbName, string collectionName, string fieldName, string indexName,
        IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.CreateIndex, (ts, msgId) =>
        {
            var request = new Rpc.CreateIndexRequest
            {
                Base = Base(MsgType.CreateIndex, ts, msgId, ProxySourceId),
                DbName = dbName,
                CollectionName = collectionName,
                FieldName = fieldName,
                IndexName = indexName,
            };
            request.ExtraParams.AddRange(parameters.Select(p => new MilvusKeyValue { Key = p.Key, Value = p.Value }));
            return request;
        }, cancellationToken);

    public Task<SimulatedMessage> DropIndexAsync(string dbName, string collectionName, string fieldName, string indexName, CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.DropIndex, (ts, msgId) => new Rpc.DropIndexRequest
        {
            Base = Base(MsgType.DropIndex, ts, msgId, ProxySourceId),
            DbName = dbName,
            CollectionName = collectionName,
            FieldName = fieldName,
            IndexName = indexName,
        }, cancellationToken);

    public Task<SimulatedMessage> LoadCollectionAsync(string dbName, string collectionName, int replicaNumber = 1, CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.LoadCollection, (ts, msgId) => new Rpc.LoadCollectionRequest
        {
            Base = Base(MsgType.LoadCollection, ts, msgId, ProxySourceId),
            DbName = dbName,
            CollectionName = collectionName,
            ReplicaNumber = replicaNumber,
        }, cancellationToken);

    public Task<SimulatedMessage> ReleaseCollectionAsync(string dbName, string collectionName, CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.ReleaseCollection, (ts, msgId) => new Rpc.ReleaseCollectionRequest
        {
            Base = Base(MsgType.ReleaseCollection, ts, msgId, ProxySourceId),
            DbName = dbName,
            CollectionName = collectionName,
        }, cancellationToken);

    public Task<SimulatedMessage> LoadPartitionsAsync(string dbName, string collectionName, IReadOnlyList<string> partitionNames, int replicaNumber = 1,
        CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.LoadPartitions, (ts, msgId) =>
        {
            var request = new Rpc.LoadPartitionsRequest
            {
                Base = Base(MsgType.LoadPartitions, ts, msgId, ProxySourceId),
                DbName = dbName,
                CollectionName = collectionName,
                ReplicaNumber = replicaNumber,
            };
            request.PartitionNames.AddRange(partitionNames);
            return request;
        }, cancellationToken);

    public Task<SimulatedMessage> ReleasePartitionsAsync(string dbName, string collectionName, IReadOnlyList<string> partitionNames,
        CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.ReleasePartitions, (ts, msgId) =>
        {
            var request = new Rpc.ReleasePartitionsRequest
            {
                Base = Base(MsgType.ReleasePartitions, ts, msgId, ProxySourceId),
                DbName = dbName,
                CollectionName = collectionName,
            };
            request.PartitionNames.AddRange(partitionNames);
            return request;
        }, cancellationToken);

    public Task<SimulatedMessage> FlushAsync(string dbName, IReadOnlyList<string> collectionNames, CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.Flush, (ts, msgId) =>
        {
            var request = new Rpc.FlushRequest { Base = Base(MsgType.Flush, ts, msgId, ProxySourceId), DbName = dbName };
            request.CollectionNames.AddRange(collectionNames);
            return request;
        }, cancellationToken);

    public Task<SimulatedMessage> CreateDatabaseAsync(string dbName, IReadOnlyDictionary<string, string>? properties = null, CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.CreateDatabase, (ts, msgId) =>
        {
            var request = new Rpc.CreateDatabaseRequest { Base = Base(MsgType.CreateDatabase, ts, msgId, ProxySourceId), DbName = dbName };
            request.Properties.AddRange((properties ?? new Dictionary<string, string>()).Select(p => new MilvusKeyValue { Key = p.Key, Value = p.Value }));
            return request;
        }, cancellationToken);

    public Task<SimulatedMessage> DropDatabaseAsync(string dbName, CancellationToken cancellationToken = default) =>
        ReplicateAsync(MsgType.DropDatabase, (ts, msgId) => new Rpc.DropDatabaseRequest
        {
            Base = Base(MsgType.DropDatabase, ts, msgId, ProxySourceId),
            DbName = dbName,
        }, cancellationToken);

    private Task<SimulatedMessage> ReplicateAsync(MsgType type, Func<HybridTimestamp, long, IMessage> build, CancellationToken cancellationToken) =>
        WriteAsync(ReplicateChannel, ReplicateChannel, type, produced: true, build, cancellationToken);

    private async Task<IReadOnlyList<SimulatedMessage>> BroadcastAsync(
        IReadOnlyList<string> vchannels, MsgType type, Func<HybridTimestamp, long, IMessage> build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vchannels);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ts = _tso.Next();
            var msgId = Interlocked.Increment(ref _nextMsgId);
            var written = new List<SimulatedMessage>(vchannels.Count);
            foreach (var vchannel in vchannels)
            {
                var pchannel = PhysicalChannelOf(vchannel);
                AddPhysicalChannel(pchannel);
                written.Add(await ProduceAsync(pchannel, vchannel, type, produced: false, ts, build(ts, msgId), cancellationToken).ConfigureAwait(false));
            }

            return written;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SimulatedMessage> WriteAsync(
        string topic, string vchannel, MsgType type, bool produced, Func<HybridTimestamp, long, IMessage> build, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (topic != ReplicateChannel)
            {
                AddPhysicalChannel(topic);
            }

            var ts = _tso.Next();
            var payload = build(ts, Interlocked.Increment(ref _nextMsgId));
            return await ProduceAsync(topic, vchannel, type, produced, ts, payload, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <param name="produced">Sent with msgstream Produce (DML, replicate channel) rather than Broadcast (DDL, ticks).</param>
    private async Task<SimulatedMessage> ProduceAsync(
        string topic, string vchannel, MsgType type, bool produced, HybridTimestamp ts, IMessage payload, CancellationToken cancellationToken)
    {
        var value = payload.ToByteArray();
        var id = await _producer.WriteAsync(topic, value, Properties(vchannel, type, produced, ts), cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _bytesWritten, value.Length);
        return new SimulatedMessage(topic, id, ts, type.ToString());
    }

    private Dictionary<string, string> Properties(string vchannel, MsgType type, bool produced, HybridTimestamp ts) => Version switch
    {
        SourceMilvusVersion.V2_4 => produced ? new() { ["msg_type"] = type.ToString() } : [],
        _ => new()
        {
            ["vchannel"] = vchannel,
            ["msg_type"] = type.ToString(),
            ["timestamp"] = ts.Value.ToString(CultureInfo.InvariantCulture),
            ["replicate_id"] = string.Empty,
        },
    };

    private static MsgBase Base(MsgType type, HybridTimestamp ts, long msgId, long sourceId) =>
        new() { MsgType = type, MsgID = msgId, Timestamp = ts.Value, SourceID = sourceId };

    [GeneratedRegex(@"^(.*)_(\d+)v(\d+)$")]
    private static partial Regex VirtualChannelPattern();
}
