using Cdc.Application.EventStore;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Running;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.EventStore;
using Cdc.Infrastructure.Metrics;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Secrets;
using Cdc.Infrastructure.Source.Etcd;
using Cdc.Infrastructure.Source.Kafka;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Infrastructure.Target;
using Cdc.Infrastructure.Tests.Source.Etcd;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.Metrics;
using Cdc.Testing.SourceSimulator;
using Microsoft.Extensions.Logging.Abstractions;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Tests.EndToEnd;

/// <summary>
/// The whole replication of a task: a simulated source (collection metadata in the real etcd, msgstream messages in
/// the Kafka mock or, where a test says so, a fake Pulsar broker of its own) replicated by <see cref="TaskReplication"/> into the fake target Milvus, with checkpoints in
/// the real event store, stopped and resumed from those checkpoints.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed partial class TaskReplicationTests : IAsyncLifetime
{
    private const string TaskId = "engine-task";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(15);

    private readonly string _prefix = KafkaTestBroker.UniqueTopic("engine");
    private EventStoreHarness _store = null!;
    private FakeMilvusServer _server = null!;
    private EtcdClient _etcd = null!;
    private SourceMetaSimulator _meta = null!;
    private EtcdSourceMetadata _metadata = null!;
    private SourceQueue _queue = null!;
    private SourceStreamSimulator _stream = null!;
    private Prometheus.CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private CdcReplicationMetrics _metrics = null!;

    private string ReplicateChannel => $"{_prefix}-replicate-msg";

    public async Task InitializeAsync()
    {
        _store = await EventStoreHarness.StartAsync();
        await _store.Store.AppendAsync(new StreamAppend(TaskId, StreamTypes.Task, 0, [TestTasks.Created(TaskId)]), default);
        _server = await FakeMilvusServer.StartAsync();
        _etcd = EtcdTestStore.Client();
        _meta = new SourceMetaSimulator(_etcd, new SourceMetaSimulatorOptions(
            RootPath: EtcdTestStore.UniquePrefix("engine").TrimEnd('/'), ClusterPrefix: _prefix, DmlChannelNum: 4));
        _metadata = new EtcdSourceMetadata(_etcd, _meta.Layout);
        _queue = SourceQueue.Start(SourceQueueKind.Kafka);
        _stream = new SourceStreamSimulator(_queue.Writer, SourceMilvusVersion.V2_4, TimeProvider.System, ReplicateChannel);
    }

    /// <summary>Also checks, after every test, that no target pchannel's time went back (see <see cref="FakeTimeViolation"/>).</summary>
    public async Task DisposeAsync()
    {
        var violations = _server.TimeViolations;
        await _queue.DisposeAsync();
        _etcd.Dispose();
        await _server.DisposeAsync();
        await _store.DisposeAsync();
        Assert.True(violations.Count == 0, $"messages went back in time on the target:\n{string.Join("\n", violations.Take(10))}");
    }

    [Theory]
    [InlineData(SourceQueueKind.Kafka, SourceMilvusVersion.V2_4)]
    [InlineData(SourceQueueKind.Kafka, SourceMilvusVersion.V2_5)]
    [InlineData(SourceQueueKind.Pulsar, SourceMilvusVersion.V2_4)]
    [InlineData(SourceQueueKind.Pulsar, SourceMilvusVersion.V2_5)]
    public async Task Rows_reach_the_target_and_a_resumed_engine_continues_from_the_checkpoints(SourceQueueKind queue, SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(60);
        await UseSourceAsync(queue, version);
        var books = await CreateBooksAsync(ct);
        string[] v = [.. books.VirtualChannels];

        var first = Start([], ct);
        await WaitUntilReadingAsync(first, ct);

        await _stream.InsertAsync(v[0], books.Id, books.Partitions[0].Id, [1, 2, 3], Vectors(3), ct);
        await _stream.InsertAsync(v[1], books.Id, books.Partitions[0].Id, [11, 12], Vectors(2), ct);
        await _stream.TickAsync(ct);
        await _stream.DeleteAsync(v[0], books.Id, [2], ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 3L, 11L, 12L]), first, "the first rows on the target");

        await _stream.CreateIndexAsync("default", "books", "vector", "vec_idx",
            new Dictionary<string, string> { ["index_type"] = "HNSW", ["metric_type"] = "L2" }, ct);
        await _stream.LoadCollectionAsync("default", "books", cancellationToken: ct);
        await EventuallyAsync(() => _server.CallsTo("LoadCollection").Count == 1, first, "the replicate channel's ops on the target");
        Assert.Single(_server.CallsTo("CreateIndex"));

        await first.StopAsync();

        // Written while no engine runs: the next one starts at the checkpoints and loses none of it.
        await _stream.InsertAsync(v[0], books.Id, books.Partitions[0].Id, [4], Vectors(1), ct);
        await _stream.InsertAsync(v[1], books.Id, books.Partitions[0].Id, [13], Vectors(1), ct);
        await _stream.DeleteAsync(v[1], books.Id, [11], ct);
        await _stream.TickAsync(ct);

        var positions = (await _store.Views.GetAsync(TaskId, ct))!.Positions;
        Assert.Equal(
            books.PhysicalChannels.Append(ReplicateChannel).Distinct().Order(StringComparer.Ordinal),
            positions.Select(p => p.Channel).Order(StringComparer.Ordinal));

        var second = Start(positions, ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 3L, 4L, 12L, 13L]), second, "the rows written while stopped");
        await Task.Delay(500, ct);
        Assert.Single(_server.CallsTo("CreateIndex"));
        Assert.Single(_server.CallsTo("LoadCollection"));
        Assert.Single(_server.CallsTo("CreateCollection"));
        await second.StopAsync();
    }

    /// <summary>
    /// A pause while the target is still answering an operation of the replicate channel: the stopping run waits for
    /// the answer and checkpoints it, so the next run does not send the operation again.
    /// </summary>
    [Fact]
    public async Task An_operation_the_target_is_answering_when_the_engine_stops_is_not_sent_again()
    {
        var ct = KafkaTestBroker.Deadline(60);
        await StopWhileTheTargetAnswersAsync(
            async books => await _stream.LoadCollectionAsync("default", "books", cancellationToken: ct), "LoadCollection",
            stopped: () => Assert.True(_server.Collection("default", "books").IsLoaded), ct);
        Assert.Single(_server.CallsTo("LoadCollection"));
    }

    /// <summary>The same for rows: a pack the target is still answering when the engine stops is not written twice.</summary>
    [Fact]
    public async Task Rows_the_target_is_answering_when_the_engine_stops_are_not_written_again()
    {
        var ct = KafkaTestBroker.Deadline(60);
        await StopWhileTheTargetAnswersAsync(async books =>
        {
            await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1, 2, 3], Vectors(3), ct);
            await _stream.TickAsync(ct);
        }, "ReplicateMessage", stopped: () => Assert.Equal([1L, 2L, 3L], Keys()), ct);
        Assert.Equal([1L, 2L, 3L], Keys());
    }

    /// <summary>
    /// Runs the engine, writes with the target answering in 2 s, stops the engine as soon as the target received the
    /// <paramref name="method"/> call, checks <paramref name="stopped"/> (what the stopped engine left on the target), then
    /// runs it again from the checkpoints until it reads and a tick went through.
    /// </summary>
    private async Task StopWhileTheTargetAnswersAsync(Func<SimulatedCollection, Task> write, string method, Action stopped, CancellationToken ct)
    {
        await UseSourceAsync(SourceQueueKind.Kafka, SourceMilvusVersion.V2_5);
        var books = await CreateBooksAsync(ct);
        var first = Start([], ct);
        await WaitUntilReadingAsync(first, ct);
        var calls = _server.CallsTo(method).Count;

        _server.Latency = TimeSpan.FromSeconds(2);
        await write(books);
        await EventuallyAsync(() => _server.CallsTo(method).Count > calls, first, $"the {method} call on the target");
        await first.StopAsync(); // the call is still being answered
        _server.Latency = TimeSpan.Zero;
        stopped();

        var second = Start((await _store.Views.GetAsync(TaskId, ct))!.Positions, ct);
        await WaitUntilReadingAsync(second, ct);
        await _stream.TickAsync(ct);
        await Task.Delay(500, ct);
        await second.StopAsync();
    }

    /// <summary>
    /// The seed's operations that travel on the replicate channel, and partition create/drop, each seen on the target:
    /// create/drop index, load/release collection, load/release partitions, flush, create/drop database.
    /// </summary>
    [Theory]
    [InlineData(SourceQueueKind.Kafka, SourceMilvusVersion.V2_4)]
    [InlineData(SourceQueueKind.Kafka, SourceMilvusVersion.V2_5)]
    [InlineData(SourceQueueKind.Pulsar, SourceMilvusVersion.V2_4)]
    [InlineData(SourceQueueKind.Pulsar, SourceMilvusVersion.V2_5)]
    public async Task Every_operation_of_the_replicate_channel_and_of_partitions_reaches_the_target(SourceQueueKind queue, SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(90);
        await UseSourceAsync(queue, version);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct, new CollectionSelection(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { [CollectionInfo.All] = [new CollectionInfo(CollectionInfo.All)] }));
        await WaitUntilReadingAsync(run, ct);
        FakeCollection Books() => _server.Collection("default", "books");

        var p1 = await _meta.CreatePartitionAsync("default", "books", "p1", ct);
        await EventuallyAsync(() => Books().Partitions.ContainsKey("p1"), run, "partition p1 created");

        await _stream.CreateIndexAsync("default", "books", "vector", "vec_idx", new Dictionary<string, string> { ["index_type"] = "HNSW", ["metric_type"] = "L2" }, ct);
        await EventuallyAsync(() => Books().Indexes.Any(i => i.IndexName == "vec_idx" && i.Parameters["index_type"] == "HNSW"), run, "the index created");
        await _stream.LoadCollectionAsync("default", "books", cancellationToken: ct);
        await EventuallyAsync(() => Books().IsLoaded, run, "the collection loaded");
        await _stream.ReleaseCollectionAsync("default", "books", ct);
        await EventuallyAsync(() => !Books().IsLoaded, run, "the collection released");
        await _stream.LoadPartitionsAsync("default", "books", ["p1"], cancellationToken: ct);
        await EventuallyAsync(() => Books().LoadedPartitions.Contains("p1"), run, "p1 loaded");
        await _stream.ReleasePartitionsAsync("default", "books", ["p1"], ct);
        await EventuallyAsync(() => !Books().LoadedPartitions.Contains("p1"), run, "p1 released");
        await _stream.DropIndexAsync("default", "books", "vector", "vec_idx", ct);
        await EventuallyAsync(() => Books().Indexes.Count == 0, run, "the index dropped");
        await _stream.FlushAsync("default", ["books"], ct);
        await EventuallyAsync(() => _server.CallsTo("Flush").Count == 1, run, "the flush");
        await _stream.CreateDatabaseAsync("db2", cancellationToken: ct);
        await EventuallyAsync(() => _server.Databases.Contains("db2"), run, "db2 created");
        await _stream.DropDatabaseAsync("db2", ct);
        await EventuallyAsync(() => !_server.Databases.Contains("db2"), run, "db2 dropped");

        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, p1.Id, [5], Vectors(1), ct, partitionName: "p1");
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([5L]), run, "the row of p1");
        await _stream.DropPartitionAsync(books.Id, p1.Id, "p1", books.VirtualChannels, ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => !Books().Partitions.ContainsKey("p1"), run, "p1 dropped after both shards carried the drop");
        Assert.False(run.Task.IsCompleted);
        await run.StopAsync();
    }

    [Theory]
    [InlineData(SourceQueueKind.Kafka)]
    [InlineData(SourceQueueKind.Pulsar)]
    public async Task A_collection_and_a_partition_created_while_running_are_replicated(SourceQueueKind queue)
    {
        var ct = KafkaTestBroker.Deadline(60);
        await UseSourceAsync(queue, SourceMilvusVersion.V2_4);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct, new CollectionSelection([new CollectionInfo(CollectionInfo.All)], null));
        await WaitUntilReadingAsync(run, ct);

        // A new collection on the two pchannels not read yet; its start position is a message written before it.
        var fresh = _meta.PhysicalChannels.Except(books.PhysicalChannels).Take(2).ToList();
        foreach (var pchannel in fresh) _stream.AddPhysicalChannel(pchannel);
        var before = (await _stream.TickAsync(ct)).ToDictionary(m => m.Channel, m => m.Id);
        var authors = await _meta.CreateCollectionAsync("default", "authors",
            new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vector", 2), ct, shards: 2, startPosition: p => before[p]);
        Assert.Equal(fresh.Order(StringComparer.Ordinal), authors.PhysicalChannels.Order(StringComparer.Ordinal));
        await _stream.InsertAsync(authors.VirtualChannels[0], authors.Id, authors.Partitions[0].Id, [21, 22], Vectors(2), ct, collectionName: "authors");
        await _stream.InsertAsync(authors.VirtualChannels[1], authors.Id, authors.Partitions[0].Id, [31], Vectors(1), ct, collectionName: "authors");
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys("authors").SequenceEqual([21L, 22L, 31L]), run, "the rows of the new collection");

        // A new partition of books: rows inserted into it land in the target's partition of that name.
        var p1 = await _meta.CreatePartitionAsync("default", "books", "p1", ct);
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, p1.Id, [7], Vectors(1), ct, partitionName: "p1");
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys("books").SequenceEqual([7L]), run, "the row in the new partition");
        var targetP1 = _server.Collection("default", "books").Partitions["p1"];
        Assert.Equal(targetP1, Assert.Single(_server.Rows("default", "books")).PartitionId);
        await run.StopAsync();
    }

    [Theory]
    [InlineData(SourceQueueKind.Kafka)]
    [InlineData(SourceQueueKind.Pulsar)]
    public async Task Rows_reach_the_target_before_their_tick_and_a_stop_before_the_tick_sends_none_twice(SourceQueueKind queue)
    {
        var ct = KafkaTestBroker.Deadline(60);
        await UseSourceAsync(queue, SourceMilvusVersion.V2_4);
        var books = await CreateBooksAsync(ct);
        string[] v = [.. books.VirtualChannels];
        var first = Start([], ct);
        await WaitUntilReadingAsync(first, ct);

        // No tick follows these rows: they reach the target all the same, each in a request without a time tick,
        // which the target's consumers then take with the tick that follows.
        await _stream.InsertAsync(v[0], books.Id, books.Partitions[0].Id, [1, 2], Vectors(2), ct);
        await _stream.InsertAsync(v[1], books.Id, books.Partitions[0].Id, [3], Vectors(1), ct);
        await _stream.DeleteAsync(v[0], books.Id, [1], ct);
        await EventuallyAsync(() => Keys().SequenceEqual([2L, 3L]), first, "the rows and the delete before any tick");
        var carrying = _server.CallsTo("ReplicateMessage").Select(c => c.RequestAs<Rpc.ReplicateMessageRequest>())
            .Where(r => r.Msgs.Any(m => TypeOf(m) is MsgType.Insert or MsgType.Delete)).ToList();
        Assert.Equal(3, carrying.Count);
        Assert.All(carrying, r => Assert.DoesNotContain(r.Msgs, m => TypeOf(m) == MsgType.TimeTick));

        // Stopped before the tick: the checkpoints are the rows sent, so the next run sends none of them again.
        await first.StopAsync();
        var positions = (await _store.Views.GetAsync(TaskId, ct))!.Positions;
        await _stream.InsertAsync(v[0], books.Id, books.Partitions[0].Id, [4], Vectors(1), ct);
        await _stream.TickAsync(ct);
        var second = Start(positions, ct);
        await EventuallyAsync(() => Keys().SequenceEqual([2L, 3L, 4L]), second, "the row written while stopped");
        await _stream.InsertAsync(v[1], books.Id, books.Partitions[0].Id, [5], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([2L, 3L, 4L, 5L]), second, "the row after the restart");
        Assert.Equal([1L, 2L, 3L, 4L, 5L], InsertedKeysSent().Order());
        await second.StopAsync();
    }

    [Fact]
    public async Task Rows_wait_for_their_tick_when_another_source_pchannel_writes_to_the_same_target_pchannel()
    {
        var ct = KafkaTestBroker.Deadline(60);
        // A target with 2 DML channels: books (source pchannels 0 and 1) and authors (2 and 3) share target pchannels.
        await _server.DisposeAsync();
        _server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { DmlChannelNum = 2 }, ct);
        var books = await CreateBooksAsync(ct);
        var authors = await _meta.CreateCollectionAsync("default", "authors",
            new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vector", 2), ct, shards: 2);
        Assert.Empty(books.PhysicalChannels.Intersect(authors.PhysicalChannels));
        foreach (var pchannel in authors.PhysicalChannels) _stream.AddPhysicalChannel(pchannel);
        var run = Start([], ct, new CollectionSelection([new CollectionInfo(CollectionInfo.All)], null));
        await WaitUntilReadingAsync(run, ct);
        Assert.Equal(
            _server.Collection("default", "books").PhysicalChannels.Order(StringComparer.Ordinal),
            _server.Collection("default", "authors").PhysicalChannels.Order(StringComparer.Ordinal));

        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1], Vectors(1), ct);
        await Task.Delay(1000, ct);
        Assert.Empty(Keys());

        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L]), run, "the row with its tick");
        var carrying = Assert.Single(_server.CallsTo("ReplicateMessage").Select(c => c.RequestAs<Rpc.ReplicateMessageRequest>()),
            r => r.Msgs.Any(m => TypeOf(m) == MsgType.Insert));
        Assert.Equal(MsgType.TimeTick, TypeOf(carrying.Msgs[^1]));
        await run.StopAsync();
    }

    /// <summary>The primary keys of every Insert the target was sent, once per time sent.</summary>
    private List<long> InsertedKeysSent() =>
        [.. _server.CallsTo("ReplicateMessage").SelectMany(c => c.RequestAs<Rpc.ReplicateMessageRequest>().Msgs)
            .Where(m => TypeOf(m) == MsgType.Insert)
            .SelectMany(m => Cdc.Infrastructure.Milvus.Protos.Msg.InsertRequest.Parser.ParseFrom(m).FieldsData.First(f => f.FieldName == "pk").Scalars.LongData.Data)];

    private static MsgType TypeOf(Google.Protobuf.ByteString message) =>
        MsgHeader.Parser.WithDiscardUnknownFields(true).ParseFrom(message).Base.MsgType;

    [Fact]
    public async Task Transient_target_failures_are_retried_and_a_refused_pack_halts_the_replication()
    {
        var ct = KafkaTestBroker.Deadline(60);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct);
        await WaitUntilReadingAsync(run, ct);

        // More failures than the client's own retries: the engine keeps the pack and tries again, and get shows the
        // task retrying with the target's error until the pack goes through.
        _server.FailNext(8, Grpc.Core.StatusCode.Unavailable, "ReplicateMessage", "target restarting");
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1, 2], Vectors(2), ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [3], Vectors(1), ct);
        await _stream.TickAsync(ct);
        TaskHealth? retrying = null;
        await EventuallyAsync(() => (retrying = HealthAsync().GetAwaiter().GetResult()) is { Status: TaskHealth.Retrying }, run, "get showing the task retrying");
        Assert.Contains("target restarting", retrying!.LastError);
        // The rows go ahead of their tick (TaskReplicationRun.SendAheadAsync); a tick-only pack of the ticks written
        // while waiting for the reader may be the call that failed last.
        Assert.StartsWith("cannot write the ", retrying.LastError);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 2L, 3L]), run, "the rows after the target recovered");
        Assert.False(run.Task.IsCompleted);
        await EventuallyAsync(() => HealthAsync().GetAwaiter().GetResult() is { Status: TaskHealth.Replicating }, run, "get showing the task replicating again");
        var recovered = await HealthAsync();
        Assert.Contains("target restarting", recovered!.LastError); // the last error stays visible, with its time
        Assert.NotNull(recovered.LastErrorAt);
        // Each refused attempt of the engine is a call made for the task.
        Assert.True(Sum(await ScrapeAsync(), "milvus_cdc_api_execute_total", s => s.Label("api_type") == "ReplicateMessage") >= 4);

        // A refusal that cannot be retried ends the run with the reason the task is paused with.
        _server.FailNextWithStatus(1, MilvusTargetException.InvalidReplicateMessageCode, "invalid replicate message", retriable: false, method: "ReplicateMessage");
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [4], Vectors(1), ct);
        await _stream.TickAsync(ct);
        var halted = await Assert.ThrowsAsync<ReplicationHalted>(() => run.Task.WaitAsync(WaitLimit, ct));
        Assert.StartsWith("fail to handle replicate message, err: ", halted.Reason);
        Assert.Contains("invalid replicate message", halted.Reason);
        Assert.Contains(books.PhysicalChannels, pchannel =>
            halted.Reason.Contains($"the Insert at channel '{pchannel}' at kafka offset ", StringComparison.Ordinal)
            || halted.Reason.Contains($"the pack of {pchannel} ending at position", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_metrics_count_the_rows_delivered_and_the_lag_is_right_while_idle_and_after_a_restart()
    {
        var ct = KafkaTestBroker.Deadline(60);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct);
        await WaitUntilReadingAsync(run, ct);

        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1, 2, 3], Vectors(3), ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [4, 5], Vectors(2), ct);
        await _stream.TickAsync(ct);
        await _stream.DeleteAsync(books.VirtualChannels[0], books.Id, [2], ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 3L, 4L, 5L]), run, "the rows");

        // The source goes idle for 3 s but keeps ticking, as Milvus does: the lag stays at about one tick interval, well
        // under the 3 s since the last row (the bound leaves room for a loaded machine: 1.7 s was seen under the full suite).
        for (var i = 0; i < 30; i++)
        {
            await _stream.TickAsync(ct);
            await Task.Delay(100, ct);
        }

        var families = await ScrapeAsync();
        bool Write(ParsedSample s) => s.Label("op_type") == "write";
        Assert.Equal(5, Sum(families, "milvus_cdc_replicate_data_cnt", s => Write(s) && s.Label("api_type") == "insert" && s.Label("collection_name") == "books"));
        Assert.Equal(1, Sum(families, "milvus_cdc_replicate_data_cnt", s => Write(s) && s.Label("api_type") == "delete"));
        Assert.Equal(5, Sum(families, "milvus_cdc_replicate_data_cnt", s => !Write(s) && s.Label("api_type") == "insert"));
        Assert.True(Sum(families, "milvus_cdc_replicate_data_size", s => Write(s) && s.Label("msg_type") == "Insert") > 0);
        Assert.Equal(1, Sum(families, "milvus_cdc_api_execute_total", s => s.Label("api_type") == "CreateCollection"));
        var lags = families[CdcReplicationMetrics.LagName].Samples.ToDictionary(s => s.Label("channel"), s => s.Value);
        Assert.Equal(books.PhysicalChannels.ToHashSet(), lags.Keys.ToHashSet()); // not the replicate channel: it has no ticks
        Assert.All(books.PhysicalChannels, pchannel => Assert.InRange(lags[pchannel], 0, 2500));
        Assert.All(books.PhysicalChannels, pchannel => Assert.Contains(families["milvus_cdc_buffer_messages"].Samples, s => s.Label("channel") == pchannel));
        Assert.Equal(TaskHealth.Replicating, (await HealthAsync())!.Status);
        await run.StopAsync();

        // Stopped for a while: a restarted engine reports the lag from its checkpoints before it reads anything.
        await Task.Delay(2000, ct);
        var positions = (await _store.Views.GetAsync(TaskId, ct))!.Positions;
        var resumed = Start(positions, ct);
        lags = (await ScrapeAsync())[CdcReplicationMetrics.LagName].Samples.ToDictionary(s => s.Label("channel"), s => s.Value);
        Assert.All(books.PhysicalChannels, pchannel => Assert.InRange(lags[pchannel], 2000, 60_000));
        Assert.InRange((await HealthAsync())!.LagMs!.Value, 2000, 60_000);

        // Once it reads the ticks written since, it has caught up.
        var deadline = DateTimeOffset.UtcNow + WaitLimit;
        while (true)
        {
            await _stream.TickAsync(ct);
            lags = (await ScrapeAsync())[CdcReplicationMetrics.LagName].Samples.ToDictionary(s => s.Label("channel"), s => s.Value);
            if (books.PhysicalChannels.All(p => lags[p] < 1500)) break;
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail($"the lag never went down: {string.Join(", ", lags)}");
            await Task.Delay(100, ct);
        }

        await resumed.StopAsync();
    }

    [Theory]
    [InlineData(SourceQueueKind.Kafka)]
    [InlineData(SourceQueueKind.Pulsar)]
    public async Task The_replicate_channel_starts_after_the_rpc_channel_position_of_the_create_request(SourceQueueKind queue)
    {
        var ct = KafkaTestBroker.Deadline(60);
        await UseSourceAsync(queue, SourceMilvusVersion.V2_4);
        await CreateBooksAsync(ct);
        // Written before the task exists: the first is before the position given, the second after it.
        var before = await _stream.LoadCollectionAsync("default", "books", cancellationToken: ct);
        var given = MsgPositionCodec.Encode(ReplicateChannel, SourceMessageIdCodec.ToBytes(before.Id), before.Timestamp.Value);
        await _stream.CreateIndexAsync("default", "books", "vector", "vec_idx",
            new Dictionary<string, string> { ["index_type"] = "HNSW", ["metric_type"] = "L2" }, ct);

        var run = Start([], ct, rpcPosition: given);
        await EventuallyAsync(() => _server.CallsTo("CreateIndex").Count == 1, run, "the operation after the given position");
        await Task.Delay(500, ct);
        Assert.Empty(_server.CallsTo("LoadCollection")); // the one at the position itself is not repeated
        await run.StopAsync();
    }

    [Fact]
    public async Task After_a_server_died_the_rows_sent_again_from_its_checkpoints_are_counted_and_after_a_clean_stop_none()
    {
        var ct = KafkaTestBroker.Deadline(60);
        var books = await CreateBooksAsync(ct);
        var interval = TimeSpan.FromSeconds(20);
        var first = Start([], ct, checkpointInterval: interval);
        await WaitUntilReadingAsync(first, ct);
        // The checkpoints a server that died now would leave: the first ones, written at the first acknowledgement.
        var died = (await _store.Views.GetAsync(TaskId, ct))!;
        Assert.Null(died.Runtime!.StoppedAt);

        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1, 2, 3], Vectors(3), ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [4, 5], Vectors(2), ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 2L, 3L, 4L, 5L]), first, "the rows");
        await first.StopAsync();
        var stopped = (await _store.Views.GetAsync(TaskId, ct))!;
        Assert.NotNull(stopped.Runtime!.StoppedAt);

        // Resumed from the dead server's checkpoints: the 5 rows it had sent since go out again, and are counted.
        var insertsBefore = _server.CallsTo("ReplicateMessage").Count;
        var replay = Start(died.Positions, ct, lastRun: died.Runtime, checkpointInterval: interval);
        await EventuallyAsync(() => Sum(ScrapeAsync().GetAwaiter().GetResult(), "milvus_cdc_replayed_rows_total", _ => true) >= 5, replay, "the replayed rows counted");
        await Task.Delay(500, ct);
        Assert.Equal(5, Sum(await ScrapeAsync(), "milvus_cdc_replayed_rows_total", s => s.Label("task_id") == TaskId));
        Assert.True(_server.CallsTo("ReplicateMessage").Count > insertsBefore);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Keys());
        await replay.StopAsync();

        // A clean stop leaves checkpoints covering everything sent: nothing is sent twice, nothing counted.
        var clean = (await _store.Views.GetAsync(TaskId, ct))!;
        var resumed = Start(clean.Positions, ct, lastRun: clean.Runtime, checkpointInterval: interval);
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [6], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().Contains(6L), resumed, "the next row");
        Assert.Equal(0, Sum(await ScrapeAsync(), "milvus_cdc_replayed_rows_total", _ => true));
        await resumed.StopAsync();
    }

    /// <summary>
    /// A run reserves time on each target pchannel ahead of what it sends (here an hour, so a jump would show); a clean
    /// stop brings the reservation down to what was sent, so the next run's rows keep their source timestamps.
    /// </summary>
    [Fact]
    public async Task After_a_clean_stop_the_next_run_continues_the_target_time_right_after_what_was_sent()
    {
        var ct = KafkaTestBroker.Deadline(60);
        var books = await CreateBooksAsync(ct);
        var margin = TimeSpan.FromHours(1);
        var first = Start([], ct, targetTimeMargin: margin);
        await WaitUntilReadingAsync(first, ct);
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1, 2], Vectors(2), ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [3], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 2L, 3L]), first, "the first rows");
        var targetChannels = _server.Collection("default", "books").PhysicalChannels;
        var reservedWhileRunning = await ReservedAsync(targetChannels[0]);
        // While running, the reservation reaches about the margin beyond what was sent (it was written at the first send).
        var ahead = TimeSpan.FromMilliseconds((long)(reservedWhileRunning >> 18) - (long)(_server.LastTicks[targetChannels[0]] >> 18));
        Assert.InRange(ahead, margin - TimeSpan.FromMinutes(1), margin);
        await first.StopAsync();

        // Stopped cleanly: each channel's reservation is the highest timestamp the run sent on it.
        var sent = _server.CallsTo("ReplicateMessage").Select(c => c.RequestAs<Rpc.ReplicateMessageRequest>())
            .GroupBy(r => r.ChannelName).ToDictionary(g => g.Key, g => g.Max(r => r.EndTs));
        foreach (var channel in targetChannels) Assert.Equal(sent[channel], await ReservedAsync(channel));

        var second = Start((await _store.Views.GetAsync(TaskId, ct))!.Positions, ct, targetTimeMargin: margin);
        var later = await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [4], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().Contains(4L), second, "the row after the restart");
        Assert.Equal(later.Timestamp.Value, _server.Rows("default", "books").Single(r => (long)r.PrimaryKey == 4).Timestamp);
        await second.StopAsync();
    }

    /// <summary>The time the task has reserved on a target pchannel, as stored.</summary>
    private async Task<ulong> ReservedAsync(string targetChannel) =>
        (await _store.Store.FetchStreamAsync(StreamTypes.TargetTimeStream(TaskId, targetChannel), default))
        .Events.Select(e => e.Data).OfType<TargetTimeReserved>().Last().Timestamp;

    [Theory]
    [InlineData(SourceQueueKind.Kafka)]
    [InlineData(SourceQueueKind.Pulsar)]
    public async Task A_new_task_checkpoints_where_it_starts_so_rows_written_before_its_first_pack_are_not_lost(SourceQueueKind queue)
    {
        var ct = KafkaTestBroker.Deadline(60);
        await UseSourceAsync(queue, SourceMilvusVersion.V2_4);
        var books = await CreateBooksAsync(ct);
        var first = Start([], ct);
        var channels = books.PhysicalChannels.Append(ReplicateChannel).Distinct().Order(StringComparer.Ordinal).ToList();
        IReadOnlyList<ChannelPosition> positions = [];
        await EventuallyAsync(() => (positions = _store.Views.GetAsync(TaskId, ct).GetAwaiter().GetResult()!.Positions)
            .Select(p => p.Channel).Order(StringComparer.Ordinal).SequenceEqual(channels), first, "a checkpoint per channel before any message");
        await first.StopAsync();

        // Written while no server runs the task, before it ever delivered a pack.
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1, 2], Vectors(2), ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [3], Vectors(1), ct);
        await _stream.TickAsync(ct);

        var second = Start((await _store.Views.GetAsync(TaskId, ct))!.Positions, ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 2L, 3L]), second, "the rows written before the first pack");
        await second.StopAsync();
    }

    [Fact]
    public async Task A_slow_target_slows_the_reading_instead_of_filling_memory()
    {
        var ct = KafkaTestBroker.Deadline(90);
        var books = await CreateBooksAsync(ct);
        const long cap = 200_000;
        var channels = new KafkaSourceChannels(new KafkaSourceOptions { Address = KafkaTestBroker.Bootstrap, ReadAhead = 1000, ReadBufferBytes = cap });
        var run = Start([], ct, channels: channels);
        await WaitUntilReadingAsync(run, ct);

        // 40 packs of 2,000 rows (about 64 kB a message) on one shard, each closed by a tick, against a target taking
        // 100 ms a call.
        _server.Latency = TimeSpan.FromMilliseconds(100);
        long bytesProduced = 0;
        for (var i = 0; i < 40; i++)
        {
            var keys = Enumerable.Range(i * 2000, 2000).Select(k => (long)k).ToList();
            await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, keys, Vectors(2000), ct);
            await _stream.TickAsync(ct);
        }

        double most = 0;
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (Keys().Count < 80_000)
        {
            if (run.Task.IsCompleted) await run.Task;
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail($"only {Keys().Count} rows arrived");
            var families = await ScrapeAsync();
            most = Math.Max(most, Sum(families, "milvus_cdc_buffer_bytes", s => s.Label("channel") == books.PhysicalChannels[0]));
            bytesProduced = (long)Sum(families, "milvus_cdc_replicate_data_size", s => s.Label("op_type") == "read" && s.Label("msg_type") == "Insert");
            await Task.Delay(50, ct);
        }

        // The reader waited with at most the cap (plus one message) buffered, while far more went through it.
        Assert.InRange(most, 1, cap + bytesProduced / 40);
        Assert.True(bytesProduced > 4 * cap, $"only {bytesProduced} bytes read");
        _server.Latency = TimeSpan.Zero;
        await run.StopAsync();
    }

    /// <summary>
    /// Large Inserts (Kafka records, or Pulsar entries decompressed, in arrays rented from the shared pool and returned once their pack is written) read far ahead of a
    /// slow target, so returned arrays are lent again while earlier packs are still being sent: every row still arrives
    /// with its own vector. A payload overwritten by an array lent again too early would show as a wrong vector.
    /// </summary>
    [Theory]
    [InlineData(SourceQueueKind.Kafka)]
    [InlineData(SourceQueueKind.Pulsar)]
    public async Task Large_inserts_read_ahead_of_a_slow_target_arrive_byte_for_byte(SourceQueueKind queue)
    {
        var ct = KafkaTestBroker.Deadline(90);
        await UseSourceAsync(queue, SourceMilvusVersion.V2_4);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct);
        await WaitUntilReadingAsync(run, ct);

        _server.Latency = TimeSpan.FromMilliseconds(50);
        const int rows = 3000; // about 100 kB a message
        for (var i = 0; i < 24; i++)
        {
            var keys = Enumerable.Range(i * rows, rows).Select(k => (long)k).ToList();
            await _stream.InsertAsync(books.VirtualChannels[i % 2], books.Id, books.Partitions[0].Id, keys, [.. keys.Select(k => new[] { k, -k - 0.5f })], ct);
            await _stream.TickAsync(ct);
        }

        await EventuallyAsync(() => Keys().Count == 24 * rows, run, "every row on the target");
        Assert.All(_server.Rows("default", "books"), row =>
        {
            var key = (long)row.PrimaryKey;
            Assert.Equal([key, -key - 0.5f], row.Fields["vec"].Vectors.FloatVector.Data);
        });
        _server.Latency = TimeSpan.Zero;
        await run.StopAsync();
    }

    [Theory]
    [InlineData(SourceQueueKind.Kafka)]
    [InlineData(SourceQueueKind.Pulsar)]
    public async Task With_use_start_position_rows_written_before_the_start_are_replicated(SourceQueueKind queue)
    {
        var ct = KafkaTestBroker.Deadline(40);
        await UseSourceAsync(queue, SourceMilvusVersion.V2_4);
        await _meta.StartAsync(ct);
        string[] pchannels = [.. _meta.PhysicalChannels.Take(2)];
        foreach (var pchannel in pchannels) _stream.AddPhysicalChannel(pchannel);
        var before = (await _stream.TickAsync(ct)).ToDictionary(m => m.Channel, m => m.Id);
        var books = await _meta.CreateCollectionAsync("default", "books",
            new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vector", 2), ct, shards: 2, startPosition: p => before[p]);
        Assert.Equal(pchannels, books.PhysicalChannels.Order(StringComparer.Ordinal));
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1], Vectors(1), ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [2], Vectors(1), ct);
        await _stream.TickAsync(ct);

        var run = Start([], ct, new CollectionSelection([new CollectionInfo("books", UseStartPosition: true)], null));
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 2L]), run, "the rows written before the engine started");
        await run.StopAsync();
    }

    [Theory]
    [InlineData(SourceQueueKind.Kafka, SourceMilvusVersion.V2_4)]
    [InlineData(SourceQueueKind.Kafka, SourceMilvusVersion.V2_5)]
    [InlineData(SourceQueueKind.Pulsar, SourceMilvusVersion.V2_4)]
    [InlineData(SourceQueueKind.Pulsar, SourceMilvusVersion.V2_5)]
    public async Task A_collection_dropped_on_the_source_is_dropped_on_the_target_after_the_rows_of_every_shard(SourceQueueKind queue, SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(40);
        await UseSourceAsync(queue, version);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct);
        await WaitUntilReadingAsync(run, ct);

        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1, 2], Vectors(2), ct);
        await _stream.TickAsync(ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [3], Vectors(1), ct);
        await _stream.DropCollectionAsync(books.Id, books.VirtualChannels, ct);
        await _meta.DropCollectionAsync("default", "books", ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => !_server.Collections.Any(c => c.Name == "books"), run, "books dropped on the target");

        var calls = _server.Calls.ToList();
        var drop = calls.FindIndex(c => c.Method == "DropCollection");
        Assert.Single(calls, c => c.Method == "DropCollection");
        var insertsBefore = calls.Take(drop)
            .Where(c => c.Method == "ReplicateMessage")
            .Select(c => c.RequestAs<Rpc.ReplicateMessageRequest>())
            .Where(r => r.Msgs.Any(m => MsgHeader.Parser.ParseFrom(m).Base.MsgType == MsgType.Insert))
            .Select(r => r.ChannelName).Distinct().Count();
        Assert.Equal(2, insertsBefore);
        await Task.Delay(300, ct);
        Assert.False(run.Task.IsCompleted);
        await run.StopAsync();
    }

    [Theory]
    [InlineData(SourceQueueKind.Kafka)]
    [InlineData(SourceQueueKind.Pulsar)]
    public async Task A_corrupt_message_halts_the_replication_naming_channel_and_position(SourceQueueKind queue)
    {
        var ct = KafkaTestBroker.Deadline(40);
        await UseSourceAsync(queue, SourceMilvusVersion.V2_4);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct);
        await WaitUntilReadingAsync(run, ct);

        var pchannel = books.PhysicalChannels[0];
        var id = await _queue.Writer.WriteAsync(pchannel, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], new Dictionary<string, string>(), ct);
        await _stream.TickAsync(ct);

        var halted = await Assert.ThrowsAsync<ReplicationHalted>(() => run.Task.WaitAsync(WaitLimit, ct));
        Assert.StartsWith("fail to handle replicate message, err: ", halted.Reason);
        Assert.Contains(pchannel, halted.Reason);
        Assert.Contains(SourceQueue.PositionText(id), halted.Reason);
    }

    /// <summary>
    /// From here on the source writes the messages of <paramref name="version"/> into <paramref name="queue"/> (the
    /// Kafka mock, or a fake Pulsar broker of this test's own), and the engine reads them there.
    /// </summary>
    private async Task UseSourceAsync(SourceQueueKind queue, SourceMilvusVersion version)
    {
        if (_queue.Kind != queue)
        {
            await _queue.DisposeAsync();
            _queue = SourceQueue.Start(queue);
        }

        _stream = new SourceStreamSimulator(_queue.Writer, version, TimeProvider.System, ReplicateChannel);
    }

    private async Task<SimulatedCollection> CreateBooksAsync(CancellationToken ct)
    {
        await _meta.StartAsync(ct);
        var books = await _meta.CreateCollectionAsync("default", "books",
            new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vector", 2), ct, shards: 2);
        Assert.Equal(2, books.PhysicalChannels.Distinct().Count());
        foreach (var pchannel in books.PhysicalChannels) _stream.AddPhysicalChannel(pchannel);
        return books;
    }

    private EngineRun Start(
        IReadOnlyList<ChannelPosition> checkpoints, CancellationToken ct, CollectionSelection? selection = null, string? rpcPosition = null,
        TaskRuntimeReport? lastRun = null, TimeSpan? checkpointInterval = null, ISourceChannels? channels = null,
        IReadOnlyList<NameMapping>? names = null, ReplicationStart? start = null, TimeSpan? targetTimeMargin = null)
    {
        _registry = Prometheus.Metrics.NewCustomRegistry();
        _metrics = new CdcReplicationMetrics(_registry, TimeProvider.System);
        var engine = EngineRun.Replication(_metadata, channels ?? _queue.Channels(), _store.Store, ReplicateChannel, _metrics, _store.Reports,
            checkpointInterval, targetTimeMargin);
        var definition = new TaskDefinition(
            new MilvusTarget(_server.Uri.ToString(), 5),
            selection ?? new CollectionSelection([new CollectionInfo("books")], null),
            rpcPosition is null ? null : new RpcChannelInfo(null, rpcPosition),
            NameMappings: names,
            Start: start);
        return EngineRun.Start(engine, new TaskRunContext(TaskId, definition, checkpoints, "test-owner", lastRun), WaitLimit, ct);
    }

    /// <summary>The metrics as /cdc/metrics would expose them now, by family name.</summary>
    private Task<Dictionary<string, ParsedFamily>> ScrapeAsync() => RegistryScrape.FamiliesAsync(_registry);

    private static double Sum(Dictionary<string, ParsedFamily> families, string name, Func<ParsedSample, bool> where) =>
        families.TryGetValue(name, out var family) ? family.Samples.Where(where).Sum(s => s.Value) : 0;

    /// <summary>The task's health as get shows it now.</summary>
    private async Task<TaskHealth?> HealthAsync() =>
        TaskHealth.Of((await _store.Views.GetAsync(TaskId, CancellationToken.None))!, DateTimeOffset.UtcNow);

    /// <summary>
    /// Ticks until a pack reached each target pchannel of books: the engine opens every reader (the replicate channel
    /// first) before it writes anything, so from then on nothing written to the source is missed.
    /// </summary>
    private async Task WaitUntilReadingAsync(EngineRun run, CancellationToken ct, string database = "default", string collection = "books")
    {
        await EventuallyAsync(() => _server.Collections.Any(c => c.DbName == database && c.Name == collection), run, $"{database}.{collection} on the target");
        var targetChannels = _server.Collection(database, collection).VirtualChannels.Select(ChannelMapping.ToPhysical).ToHashSet();
        var deadline = DateTimeOffset.UtcNow + WaitLimit;
        while (!targetChannels.IsSubsetOf(_server.CallsTo("ReplicateMessage").Select(c => c.RequestAs<Rpc.ReplicateMessageRequest>().ChannelName)))
        {
            if (run.Task.IsCompleted) await run.Task;
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail("timed out waiting for the first ticks on the target");
            await _stream.TickAsync(ct);
            await Task.Delay(100, ct);
        }
    }

    /// <summary>The primary keys the target holds in a collection (none while it does not exist).</summary>
    private List<long> Keys(string collection = "books", string database = "default") =>
        _server.Collections.Any(c => c.DbName == database && c.Name == collection)
            ? [.. _server.Rows(database, collection).Select(r => (long)r.PrimaryKey).Order()]
            : [];

    private static Task EventuallyAsync(Func<bool> condition, EngineRun run, string what) => run.EventuallyAsync(condition, what);

    private static IReadOnlyList<float[]> Vectors(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new[] { i, i + 0.5f })];
}
