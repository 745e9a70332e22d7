using Cdc.Infrastructure.Source.Etcd;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// The source Milvus of a scenario: collection metadata in the real etcd (its own rootPath), msgstream messages in
/// the Kafka mock or a fake Pulsar broker of its own (its own channel prefix, 4 DML pchannels), and the rows the
/// source holds after every write, which
/// is what the target must end up holding. A key always goes to the same shard (key mod shards), as Milvus hashes a
/// primary key to one vchannel, so the order of a key's writes is the order of one channel.
/// </summary>
internal sealed class ScenarioSource : IAsyncDisposable
{
    public const int DmlChannels = 4;
    public const int Shards = 2;
    private const int Dim = 2;

    private readonly EtcdClient _etcd;
    private readonly string _rootPath;
    private readonly Dictionary<string, SimulatedCollection> _collections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<long>> _rows = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Collection, long Key), string> _writes = [];
    private readonly object _gate = new();

    /// <param name="name">Names the etcd root path and the channel prefix (made unique).</param>
    /// <param name="version">Which Milvus version's message properties the source writes.</param>
    /// <param name="queue">Where the source writes its messages.</param>
    public ScenarioSource(string name, SourceMilvusVersion version = SourceMilvusVersion.V2_4, SourceQueueKind queue = SourceQueueKind.Kafka)
    {
        var prefix = KafkaTestBroker.UniqueTopic(name);
        _rootPath = EtcdTestStore.UniquePrefix(name).TrimEnd('/');
        _etcd = EtcdTestStore.Client();
        Queue = SourceQueue.Start(queue);
        Meta = new SourceMetaSimulator(_etcd, new SourceMetaSimulatorOptions(RootPath: _rootPath, ClusterPrefix: prefix, DmlChannelNum: DmlChannels));
        ReplicateChannel = $"{prefix}-replicate-msg";
        Stream = new SourceStreamSimulator(Queue.Writer, version, TimeProvider.System, ReplicateChannel);
    }

    public SourceMetaSimulator Meta { get; }

    public SourceStreamSimulator Stream { get; }

    /// <summary>The message queue the source writes to (the fake broker of a Pulsar source, for its faults).</summary>
    public SourceQueue Queue { get; }

    public string ReplicateChannel { get; }

    /// <summary>The server's config keys (as in cdc.yaml, ':'-separated) that make it read this source.</summary>
    public IReadOnlyDictionary<string, string> ServerSettings => new Dictionary<string, string>(Queue.ServerSettings)
    {
        ["sourceConfig:etcd:address:0"] = EtcdTestStore.Endpoint,
        ["sourceConfig:etcd:rootPath"] = _rootPath,
        ["sourceConfig:replicateChan"] = ReplicateChannel,
    };

    public SimulatedCollection this[string collection] => _collections[collection];

    /// <summary>
    /// Creates a collection of <see cref="Shards"/> shards (int64 key "pk", 2-dim float vector "vec": the names the
    /// simulator's Inserts give their columns, which a target that checks columns against the schema requires) on the source.
    /// </summary>
    public async Task<SimulatedCollection> CreateCollectionAsync(string name, CancellationToken ct)
    {
        await Meta.StartAsync(ct);
        var collection = await Meta.CreateCollectionAsync("default", name,
            new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vec", Dim), ct, shards: Shards);
        foreach (var pchannel in collection.PhysicalChannels) Stream.AddPhysicalChannel(pchannel);
        lock (_gate)
        {
            _collections[name] = collection;
            _rows[name] = [];
        }

        return collection;
    }

    /// <summary>Inserts the keys, one Insert message per shard, into the collection's default partition; returns the messages.</summary>
    public async Task<IReadOnlyList<SimulatedMessage>> InsertAsync(string collection, IEnumerable<long> keys, CancellationToken ct)
    {
        var c = _collections[collection];
        var written = new List<SimulatedMessage>();
        foreach (var shard in keys.GroupBy(ShardOf).OrderBy(g => g.Key))
        {
            long[] pks = [.. shard];
            written.Add(await Stream.InsertAsync(c.VirtualChannels[shard.Key], c.Id, c.Partitions[0].Id, pks,
                [.. pks.Select(k => new[] { k, k + 0.5f })], ct, collectionName: collection));
            lock (_gate)
            {
                _rows[collection].UnionWith(pks);
                foreach (var pk in pks) _writes[(collection, pk)] = _writes.GetValueOrDefault((collection, pk)) + "I";
            }
        }

        return written;
    }

    /// <summary>Deletes the keys, one Delete message per shard.</summary>
    public async Task DeleteAsync(string collection, IEnumerable<long> keys, CancellationToken ct)
    {
        var c = _collections[collection];
        foreach (var shard in keys.GroupBy(ShardOf).OrderBy(g => g.Key))
        {
            long[] pks = [.. shard];
            await Stream.DeleteAsync(c.VirtualChannels[shard.Key], c.Id, pks, ct, collectionName: collection);
            lock (_gate)
            {
                _rows[collection].ExceptWith(pks);
                foreach (var pk in pks) _writes[(collection, pk)] = _writes.GetValueOrDefault((collection, pk)) + "D";
            }
        }
    }

    /// <summary>
    /// A round that only ends right in one order: inserts <paramref name="keys"/>, deletes every third of them, then
    /// re-inserts every sixth (so a delete applied after its re-insert, or an insert after its delete, shows).
    /// </summary>
    public async Task InsertDeleteReinsertAsync(string collection, IReadOnlyList<long> keys, CancellationToken ct)
    {
        await InsertAsync(collection, keys, ct);
        await DeleteAsync(collection, keys.Where(k => k % 3 == 0), ct);
        await InsertAsync(collection, keys.Where(k => k % 6 == 0), ct);
    }

    /// <summary>One time tick on every pchannel: what lets the replication close its packs.</summary>
    public Task TickAsync(CancellationToken ct) => Stream.TickAsync(ct);

    /// <summary>The primary keys the source holds in a collection now.</summary>
    public IReadOnlyList<long> Rows(string collection)
    {
        lock (_gate) return [.. _rows[collection]];
    }

    /// <summary>Every key's writes in the order they were made: "I" for an insert, "D" for a delete (e.g. "IDI").</summary>
    public IReadOnlyDictionary<(string Collection, long Key), string> Writes
    {
        get
        {
            lock (_gate) return new Dictionary<(string Collection, long Key), string>(_writes);
        }
    }

    public static int ShardOf(long key) => (int)(key % Shards);

    public async ValueTask DisposeAsync()
    {
        await Queue.DisposeAsync();
        _etcd.Dispose();
    }
}
