using Cdc.Application.EventStore;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Running;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Application.Tasks;
using Cdc.Domain.Changes;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Metrics;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.Secrets;
using Cdc.Infrastructure.Source.Etcd;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Infrastructure.Target;
using Cdc.Infrastructure.Tests.Source.Etcd;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.Metrics;
using Cdc.Testing.Milvus;
using Cdc.Testing.SourceSimulator;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Tests.EndToEnd;

/// <summary>
/// A task in apply mode "upsert", whole: a simulated source (metadata in the real etcd, 2.4 or 2.5 messages in the
/// Kafka mock) replicated by <see cref="TaskReplication"/> into the fake target as an ordinary Milvus
/// (ttMsgEnabled on, so ReplicateMessage is refused), checkpoints in the real event store. What the target holds is
/// read back as a user would, through Query.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class UpsertReplicationTests : IAsyncLifetime
{
    private const string TaskId = "upsert-task";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(20);

    private readonly string _prefix = KafkaTestBroker.UniqueTopic("upsert");
    private EventStoreHarness _store = null!;
    private FakeMilvusServer _server = null!;
    private MilvusTestClient _client = null!;
    private EtcdClient _etcd = null!;
    private SourceMetaSimulator _meta = null!;
    private KafkaTestProducer _producer = null!;
    private SourceStreamSimulator _stream = null!;
    private Prometheus.CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();

    private string ReplicateChannel => $"{_prefix}-replicate-msg";

    public async Task InitializeAsync()
    {
        _store = await EventStoreHarness.StartAsync();
        await _store.Store.AppendAsync(new StreamAppend(TaskId, StreamTypes.Task, 0, [TestTasks.Created(TaskId)]), default);
        _server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { TtMsgEnabled = true });
        _client = new MilvusTestClient(_server.Uri);
        _etcd = EtcdTestStore.Client();
        _meta = new SourceMetaSimulator(_etcd, new SourceMetaSimulatorOptions(
            RootPath: EtcdTestStore.UniquePrefix("upsert").TrimEnd('/'), ClusterPrefix: _prefix, DmlChannelNum: 4));
        _producer = KafkaTestBroker.Producer();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        _producer.Dispose();
        _etcd.Dispose();
        await _server.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Theory]
    [InlineData(SourceMilvusVersion.V2_4)]
    [InlineData(SourceMilvusVersion.V2_5)]
    public async Task Every_seed_operation_reaches_an_ordinary_milvus_and_its_rows_are_the_sources(SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(120);
        _stream = new SourceStreamSimulator(_producer, version, TimeProvider.System, ReplicateChannel);
        var books = await CreateBooksAsync(ct);
        string[] v = [.. books.VirtualChannels];
        var run = Start([], ct);
        await WaitUntilReadingAsync(run, books, ct);
        FakeCollection Books() => _server.Collection("default", "books");

        // The source generates its keys (autoID); the target's collection keeps them.
        Assert.False(CollectionSchema.Parser.ParseFrom(Books().Schema).Fields.Single(f => f.IsPrimaryKey).AutoID);

        // Another client writes a collection of its own on the target while the task runs.
        var others = Cdc.Testing.Milvus.MilvusMessages.Schema("others", dim: 2);
        await _client.CreateCollectionAsync("default", others);
        await _client.LoadCollectionAsync("default", "others");
        await _client.UpsertAsync("default", "others", [MilvusTestClient.Int64Column("pk", [1, 2]), MilvusTestClient.FloatVectorColumn("vec", 2, [[9f, 9f], [8f, 8f]])], 2);

        // Operations of the replicate channel and of the metadata, through the target's normal RPCs.
        var p1 = await _meta.CreatePartitionAsync("default", "books", "p1", ct);
        await EventuallyAsync(() => Books().Partitions.ContainsKey("p1"), run, "partition p1 created");
        await _stream.CreateIndexAsync("default", "books", "vec", "vec_idx", new Dictionary<string, string> { ["index_type"] = "HNSW", ["metric_type"] = "L2" }, ct);
        await EventuallyAsync(() => Books().Indexes.Any(i => i.IndexName == "vec_idx"), run, "the index created");
        await _stream.LoadPartitionsAsync("default", "books", ["p1"], cancellationToken: ct);
        await EventuallyAsync(() => Books().LoadedPartitions.Contains("p1"), run, "p1 loaded");
        await _stream.ReleasePartitionsAsync("default", "books", ["p1"], ct);
        await EventuallyAsync(() => !Books().LoadedPartitions.Contains("p1"), run, "p1 released");
        await _stream.LoadCollectionAsync("default", "books", cancellationToken: ct);
        await EventuallyAsync(() => Books().IsLoaded, run, "books loaded");
        await _stream.CreateDatabaseAsync("db2", cancellationToken: ct);
        await EventuallyAsync(() => _server.Databases.Contains("db2"), run, "db2 created");
        await _stream.DropDatabaseAsync("db2", ct);
        await EventuallyAsync(() => !_server.Databases.Contains("db2"), run, "db2 dropped");

        // Rows: inserts, a delete after an insert, an insert after a delete, a source upsert (an Insert and a Delete of
        // one timestamp, the Insert written first), and a partition's rows.
        await _stream.InsertAsync(v[0], books.Id, books.Partitions[0].Id, [2, 4, 6], Vectors([2, 4, 6]), ct, collectionName: "books");
        await _stream.InsertAsync(v[1], books.Id, books.Partitions[0].Id, [1, 3], Vectors([1, 3]), ct, collectionName: "books");
        await _stream.TickAsync(ct);
        await _stream.DeleteAsync(v[0], books.Id, [4, 6], ct, collectionName: "books");
        await _stream.InsertAsync(v[0], books.Id, books.Partitions[0].Id, [6], Vectors([6], version: 100), ct, collectionName: "books");
        await _stream.UpsertAsync(v[1], books.Id, books.Partitions[0].Id, [3], Vectors([3], version: 200), ct, collectionName: "books");
        await _stream.InsertAsync(v[0], books.Id, p1.Id, [20], Vectors([20]), ct, collectionName: "books", partitionName: "p1");
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys("books").SequenceEqual([1L, 2, 3, 6, 20]), run, "the rows");
        // The Delete half of the Upsert of 3 goes ahead of its tick and its Insert half waits for the tick, so the keys
        // can look complete a moment before the last values are in: wait for the values themselves.
        var expected = Vectors([1, 2]).Concat(Vectors([3], 200)).Concat(Vectors([6], 100)).Concat(Vectors([20])).SelectMany(x => x).ToList();
        IReadOnlyList<float> vectors = [];
        for (var until = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(100, ct))
        {
            var rows = await _client.FetchAsync("default", "books", "pk", [1, 2, 3, 6, 20], ["vec"]);
            vectors = [.. rows.FieldsData.Single(f => f.FieldName == "vec").Vectors.FloatVector.Data];
            if (vectors.SequenceEqual(expected) || DateTime.UtcNow > until) break;
        }

        Assert.Equal(expected, vectors);
        Assert.Equal(5, await _client.CountAsync("default", "books"));

        await _stream.FlushAsync("default", ["books"], ct);
        await EventuallyAsync(() => _server.CallsTo("Flush").Count == 1, run, "the flush");
        await _stream.DropPartitionAsync(books.Id, p1.Id, "p1", books.VirtualChannels, ct, collectionName: "books");
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => !Books().Partitions.ContainsKey("p1"), run, "p1 dropped after both shards carried the drop");
        Assert.Equal([1L, 2, 3, 6], Keys("books"));
        await _stream.ReleaseCollectionAsync("default", "books", ct);
        await EventuallyAsync(() => !Books().IsLoaded, run, "books released");
        await _stream.DropIndexAsync("default", "books", "vec", "vec_idx", ct);
        await EventuallyAsync(() => Books().Indexes.Count == 0, run, "the index dropped");

        // The metrics count the rows as the target's APIs took them.
        var families = await RegistryScrape.FamiliesAsync(_registry);
        double Sum(string name, Func<ParsedSample, bool> where) => families.TryGetValue(name, out var f) ? f.Samples.Where(where).Sum(s => s.Value) : 0;
        Assert.Equal(8, Sum("milvus_cdc_replicate_data_cnt", s => s.Label("op_type") == "write" && s.Label("api_type") == "upsert"));
        Assert.Equal(3, Sum("milvus_cdc_replicate_data_cnt", s => s.Label("op_type") == "write" && s.Label("api_type") == "delete"));
        Assert.True(Sum("milvus_cdc_api_execute_total", s => s.Label("api_type") == "Upsert") >= 4);
        Assert.True(Sum("milvus_cdc_api_execute_total", s => s.Label("api_type") == "Delete") >= 2);

        await _stream.DropCollectionAsync(books.Id, books.VirtualChannels, ct, collectionName: "books");
        await _meta.DropCollectionAsync("default", "books", ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => !_server.Collections.Any(c => c.Name == "books"), run, "books dropped");

        // Nothing went through ReplicateMessage, nothing was marked as replicated, and the other client's rows are as it wrote them.
        Assert.Empty(_server.CallsTo("ReplicateMessage"));
        Assert.All(_server.Calls, c => Assert.Null(BaseOf(c)?.ReplicateInfo));
        Assert.Equal(2, await _client.CountAsync("default", "others"));
        var theirs = await _client.FetchAsync("default", "others", "pk", [1, 2], ["vec"]);
        Assert.Equal([9f, 9f, 8f, 8f], theirs.FieldsData.Single(f => f.FieldName == "vec").Vectors.FloatVector.Data);
        Assert.False(run.Task.IsCompleted);
        await run.StopAsync();
    }

    [Fact]
    public async Task A_run_resumed_from_older_checkpoints_sends_rows_again_and_leaves_no_duplicates()
    {
        var ct = KafkaTestBroker.Deadline(60);
        _stream = new SourceStreamSimulator(_producer, SourceMilvusVersion.V2_4, TimeProvider.System, ReplicateChannel);
        var books = await CreateBooksAsync(ct);
        var first = Start([], ct);
        var started = await WaitUntilReadingAsync(first, books, ct);
        await _client.LoadCollectionAsync("default", "books", ct);

        for (var round = 0; round < 5; round++)
        {
            long[] keys = [.. Enumerable.Range(round * 10, 10).Select(i => (long)i)];
            foreach (var shard in keys.GroupBy(k => (int)(k % 2)))
                await _stream.InsertAsync(books.VirtualChannels[shard.Key], books.Id, books.Partitions[0].Id, [.. shard], Vectors([.. shard]), ct, collectionName: "books");
            await _stream.DeleteAsync(books.VirtualChannels[0], books.Id, [.. keys.Where(k => k % 4 == 0)], ct, collectionName: "books");
            await _stream.TickAsync(ct);
        }

        long[] expected = [.. Enumerable.Range(0, 50).Where(k => k % 4 != 0).Select(k => (long)k)];
        await EventuallyAsync(() => Keys("books").SequenceEqual(expected), first, "the rows");
        await first.StopAsync();

        // As after a crash: everything since the first checkpoints is read and written again.
        var upsertsBefore = _server.CallsTo("Upsert").Count;
        var again = Start(started, ct);
        await EventuallyAsync(() => _server.CallsTo("Upsert").Count >= upsertsBefore + 10, again, "the rows sent again");
        await _stream.TickAsync(ct);
        await Task.Delay(500, ct);

        Assert.Equal(expected, Keys("books"));
        Assert.Equal(expected.Length, await _client.CountAsync("default", "books"));
        await again.StopAsync();
    }

    [Fact]
    public async Task A_collection_someone_else_created_with_another_schema_pauses_the_task_naming_it()
    {
        var ct = KafkaTestBroker.Deadline(60);
        _stream = new SourceStreamSimulator(_producer, SourceMilvusVersion.V2_4, TimeProvider.System, ReplicateChannel);
        var theirs = Cdc.Testing.Milvus.MilvusMessages.Schema("books", dim: 16);
        await _client.CreateCollectionAsync("default", theirs, shards: 2);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct);
        await WaitUntilReadingAsync(run, books, ct);

        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [2], Vectors([2]), ct, collectionName: "books");
        await _stream.TickAsync(ct);

        var halted = await Assert.ThrowsAsync<ReplicationHalted>(() => run.Task.WaitAsync(WaitLimit, ct));
        Assert.StartsWith(ReplicationHalted.Prefix, halted.Reason);
        Assert.Contains("collection default.books on the target has another schema than the source's: field vec has dim 16 on the target, 2 on the source", halted.Reason);
        Assert.Empty(_server.CallsTo("Upsert"));
    }

    [Fact]
    public async Task Under_a_name_mapping_rows_operations_and_drops_reach_the_mapped_collection()
    {
        var ct = KafkaTestBroker.Deadline(60);
        _stream = new SourceStreamSimulator(_producer, SourceMilvusVersion.V2_5, TimeProvider.System, ReplicateChannel);
        var books = await CreateBooksAsync(ct);
        string[] v = [.. books.VirtualChannels];
        var run = Start([], ct, [new NameMapping("default", "dr", new Dictionary<string, string> { ["books"] = "books_dr" })]);
        await WaitUntilReadingAsync(run, books, ct);
        FakeCollection Mapped() => _server.Collection("dr", "books_dr");

        Assert.Contains("dr", _server.Databases);
        Assert.False(CollectionSchema.Parser.ParseFrom(Mapped().Schema).Fields.Single(f => f.IsPrimaryKey).AutoID);
        var p1 = await _meta.CreatePartitionAsync("default", "books", "p1", ct);
        await EventuallyAsync(() => Mapped().Partitions.ContainsKey("p1"), run, "partition p1 of dr.books_dr");
        await _stream.LoadCollectionAsync("default", "books", cancellationToken: ct);
        await EventuallyAsync(() => Mapped().IsLoaded, run, "dr.books_dr loaded");

        await _stream.InsertAsync(v[0], books.Id, books.Partitions[0].Id, [2, 4], Vectors([2, 4]), ct, collectionName: "books");
        await _stream.InsertAsync(v[1], books.Id, p1.Id, [3], Vectors([3]), ct, collectionName: "books", partitionName: "p1");
        await _stream.TickAsync(ct);
        await _stream.DeleteAsync(v[0], books.Id, [4], ct, collectionName: "books");
        await _stream.UpsertAsync(v[1], books.Id, p1.Id, [3], Vectors([3], version: 300), ct, collectionName: "books", partitionName: "p1");
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys("dr", "books_dr").SequenceEqual([2L, 3]), run, "the rows in dr.books_dr");
        Assert.Equal(2, await _client.CountAsync("dr", "books_dr"));
        var rows = await _client.FetchAsync("dr", "books_dr", "pk", [2, 3], ["vec"]);
        Assert.Equal(Vectors([2]).Concat(Vectors([3], 300)).SelectMany(x => x), rows.FieldsData.Single(f => f.FieldName == "vec").Vectors.FloatVector.Data);

        await _stream.DropPartitionAsync(books.Id, p1.Id, "p1", books.VirtualChannels, ct, collectionName: "books");
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => !Mapped().Partitions.ContainsKey("p1"), run, "p1 of dr.books_dr dropped");
        await _stream.DropCollectionAsync(books.Id, books.VirtualChannels, ct, collectionName: "books");
        await _meta.DropCollectionAsync("default", "books", ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => !_server.Collections.Any(c => c.Name == "books_dr"), run, "dr.books_dr dropped");

        // Nothing was written under the source's names.
        var writes = _server.Calls.Where(c => c.Request is Rpc.UpsertRequest or Rpc.DeleteRequest or Rpc.CreateCollectionRequest).ToList();
        Assert.Equal(["CreateCollection", "Delete", "Upsert"], writes.Select(c => c.Method).Distinct().Order());
        Assert.All(writes, c => Assert.Equal(("dr", "books_dr"), (c.Metadata.GetValueOrDefault("dbname"), c.Request switch
        {
            Rpc.UpsertRequest u => u.CollectionName,
            Rpc.DeleteRequest d => d.CollectionName,
            Rpc.CreateCollectionRequest create => create.CollectionName,
            _ => "",
        })));
        Assert.False(run.Task.IsCompleted);
        await run.StopAsync();
    }

    private static MsgBase? BaseOf(FakeMilvusCall call) =>
        call.Request.Descriptor.FindFieldByNumber(1) is { FieldType: Google.Protobuf.Reflection.FieldType.Message } field
            ? field.Accessor.GetValue(call.Request) as MsgBase
            : null;

    /// <summary>books: int64 key "pk" generated by autoID, 2-dim "vec", 2 shards.</summary>
    private async Task<SimulatedCollection> CreateBooksAsync(CancellationToken ct)
    {
        await _meta.StartAsync(ct);
        var books = await _meta.CreateCollectionAsync("default", "books",
            new SimulatedSchema().WithInt64PrimaryKey("pk", autoId: true).WithFloatVector("vec", 2), ct, shards: 2);
        foreach (var pchannel in books.PhysicalChannels) _stream.AddPhysicalChannel(pchannel);
        return books;
    }

    private EngineRun Start(IReadOnlyList<ChannelPosition> checkpoints, CancellationToken ct, IReadOnlyList<NameMapping>? names = null)
    {
        _registry = Prometheus.Metrics.NewCustomRegistry();
        var engine = EngineRun.Replication(new EtcdSourceMetadata(_etcd, _meta.Layout), KafkaTestBroker.Channels(), _store.Store, ReplicateChannel,
            new CdcReplicationMetrics(_registry, TimeProvider.System), _store.Reports);
        var definition = new TaskDefinition(new MilvusTarget(_server.Uri.ToString(), 5),
            new CollectionSelection(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { [CollectionInfo.All] = [new CollectionInfo(CollectionInfo.All)] }),
            NameMappings: names, ApplyMode: ApplyMode.Upsert);
        return EngineRun.Start(engine, new TaskRunContext(TaskId, definition, checkpoints, "test-owner"), WaitLimit, ct);
    }

    /// <summary>
    /// Waits until the run checkpointed every channel where it starts (a new task does so before it writes anything),
    /// so nothing written to the source from then on is missed; those first checkpoints.
    /// </summary>
    private async Task<IReadOnlyList<ChannelPosition>> WaitUntilReadingAsync(EngineRun run, SimulatedCollection books, CancellationToken ct)
    {
        var channels = books.PhysicalChannels.Append(ReplicateChannel).Distinct().Order(StringComparer.Ordinal).ToList();
        IReadOnlyList<ChannelPosition> positions = [];
        await EventuallyAsync(() => (positions = _store.Views.GetAsync(TaskId, ct).GetAwaiter().GetResult()?.Positions ?? [])
            .Select(p => p.Channel).Order(StringComparer.Ordinal).SequenceEqual(channels), run, "a checkpoint on every channel");
        return positions;
    }

    /// <summary>The primary keys the target holds in a collection (of the default database unless named; none while it does not exist).</summary>
    private List<long> Keys(string collection) => Keys("default", collection);

    private List<long> Keys(string database, string collection) =>
        _server.Collections.Any(c => c.DbName == database && c.Name == collection)
            ? [.. _server.Rows(database, collection).Select(r => (long)r.PrimaryKey).Order()]
            : [];

    /// <summary>The vectors the source writes for keys: (key + version, key + version + 0.5).</summary>
    private static IReadOnlyList<float[]> Vectors(IEnumerable<long> keys, int version = 0) =>
        [.. keys.Select(k => new[] { k + version, k + version + 0.5f })];

    private static Task EventuallyAsync(Func<bool> condition, EngineRun run, string what) => run.EventuallyAsync(condition, what);
}
