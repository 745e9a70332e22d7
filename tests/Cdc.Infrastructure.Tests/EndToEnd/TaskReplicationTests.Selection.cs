using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Tasks;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;
using Cdc.Application.Replication.Source;

namespace Cdc.Infrastructure.Tests.EndToEnd;

/// <summary>
/// What a task replicates (the whole cluster, named databases and collections, under mapped names) and where it starts
/// (the earliest message kept, a time, a checkpoint the source no longer holds), end to end on the real etcd, Kafka
/// mock and event store.
/// </summary>
public sealed partial class TaskReplicationTests
{
    private static readonly CollectionSelection WholeCluster = new([new CollectionInfo(CollectionInfo.All)], null);

    [Theory]
    [InlineData(SourceMilvusVersion.V2_4)]
    [InlineData(SourceMilvusVersion.V2_5)]
    public async Task Collection_infos_star_replicates_a_database_created_after_the_start_with_its_collections_rows_and_drops(SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(90);
        _stream = new SourceStreamSimulator(_producer, version, TimeProvider.System, ReplicateChannel);
        var books = await CreateBooksAsync(ct);
        var run = Start([], ct, WholeCluster);
        await WaitUntilReadingAsync(run, ct);

        var sales = await _meta.CreateDatabaseAsync("sales", ct);
        await _stream.CreateDatabaseAsync("sales", cancellationToken: ct);
        await EventuallyAsync(() => _server.Databases.Contains("sales"), run, "the new database on the target");

        var orders = await CreateCollectionOnFreshChannelsAsync("sales", "orders", books, ct);
        await _stream.InsertAsync(orders.VirtualChannels[0], orders.Id, orders.Partitions[0].Id, [101, 102], Vectors(2), ct, collectionName: "orders");
        await _stream.InsertAsync(orders.VirtualChannels[1], orders.Id, orders.Partitions[0].Id, [201], Vectors(1), ct, collectionName: "orders");
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await _stream.DeleteAsync(orders.VirtualChannels[0], orders.Id, [102], ct, collectionName: "orders");
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys("orders", "sales").SequenceEqual([101L, 201L]), run, "the rows of sales.orders");
        await EventuallyAsync(() => Keys().SequenceEqual([1L]), run, "the row of default.books");

        await _stream.DropCollectionAsync(orders.Id, orders.VirtualChannels, ct, dbName: "sales", collectionName: "orders", dbId: sales.Id);
        await _meta.DropCollectionAsync("sales", "orders", ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => !_server.Collections.Any(c => c.DbName == "sales"), run, "sales.orders dropped on the target");
        await _meta.DropDatabaseAsync("sales", ct);
        await _stream.DropDatabaseAsync("sales", ct);
        await EventuallyAsync(() => !_server.Databases.Contains("sales"), run, "the database dropped on the target");
        Assert.Equal([1L], Keys());
        await run.StopAsync();
    }

    [Theory]
    [InlineData(SourceMilvusVersion.V2_4)]
    [InlineData(SourceMilvusVersion.V2_5)]
    public async Task Named_collections_of_a_database_go_to_their_mapped_names_and_the_others_stay_behind(SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(90);
        _stream = new SourceStreamSimulator(_producer, version, TimeProvider.System, ReplicateChannel);
        var books = await CreateBooksAsync(ct);
        await _meta.CreateDatabaseAsync("sales", ct);
        var orders = await CreateCollectionOnFreshChannelsAsync("sales", "orders", books, ct);
        var items = await _meta.CreateCollectionAsync("sales", "items",
            new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vector", 2), ct, shards: 1);
        foreach (var pchannel in items.PhysicalChannels) _stream.AddPhysicalChannel(pchannel);

        var selection = new CollectionSelection(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { ["sales"] = [new CollectionInfo("orders")] });
        NameMapping[] names = [new("sales", "sales_dr", new Dictionary<string, string> { ["orders"] = "orders_copy" })];
        var run = Start([], ct, selection, names: names);
        await WaitUntilReadingAsync(run, ct, "sales_dr", "orders_copy");

        await _stream.InsertAsync(orders.VirtualChannels[0], orders.Id, orders.Partitions[0].Id, [1, 2], Vectors(2), ct, collectionName: "orders");
        await _stream.InsertAsync(orders.VirtualChannels[1], orders.Id, orders.Partitions[0].Id, [3], Vectors(1), ct, collectionName: "orders");
        await _stream.InsertAsync(items.VirtualChannels[0], items.Id, items.Partitions[0].Id, [9], Vectors(1), ct, collectionName: "items");
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [7], Vectors(1), ct);
        await _stream.CreateIndexAsync("sales", "orders", "vector", "vec_idx", new Dictionary<string, string> { ["index_type"] = "HNSW" }, ct);
        await _stream.CreateIndexAsync("sales", "items", "vector", "vec_idx", new Dictionary<string, string> { ["index_type"] = "HNSW" }, ct);
        await _stream.TickAsync(ct);
        await _stream.DeleteAsync(orders.VirtualChannels[1], orders.Id, [3], ct, collectionName: "orders");
        await _stream.TickAsync(ct);

        await EventuallyAsync(() => Keys("orders_copy", "sales_dr").SequenceEqual([1L, 2L]), run, "the rows of sales.orders in sales_dr.orders_copy");
        await EventuallyAsync(() => _server.Collection("sales_dr", "orders_copy").Indexes.Count == 1, run, "the index of orders on orders_copy");
        Assert.Equal(["default", "sales_dr"], _server.Databases.Order(StringComparer.Ordinal));
        Assert.Equal(["orders_copy"], _server.Collections.Select(c => c.Name));
        Assert.Single(_server.CallsTo("CreateIndex"));
        await run.StopAsync();
    }

    [Fact]
    public async Task Start_from_earliest_replicates_what_the_source_still_holds_from_before_the_task()
    {
        var ct = KafkaTestBroker.Deadline(60);
        var books = await CreateBooksAsync(ct);
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1, 2], Vectors(2), ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [3], Vectors(1), ct);
        await _stream.TickAsync(ct);

        var run = Start([], ct, start: ReplicationStart.Earliest);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 2L, 3L]), run, "the rows written before the task");
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [4], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L, 2L, 3L, 4L]), run, "a row written after the start");
        await run.StopAsync();
    }

    [Fact]
    public async Task Start_from_a_time_replicates_the_changes_from_that_time_on_and_none_before()
    {
        var ct = KafkaTestBroker.Deadline(60);
        var books = await CreateBooksAsync(ct);
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await Task.Delay(50, ct);
        var from = DateTimeOffset.UtcNow;
        await Task.Delay(50, ct);
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [2], Vectors(1), ct);
        await _stream.InsertAsync(books.VirtualChannels[1], books.Id, books.Partitions[0].Id, [3], Vectors(1), ct);
        await _stream.TickAsync(ct);

        // librdkafka's mock broker cannot look offsets up by time (it answers "none"): the channels here seek to the
        // earliest message instead, as a broker whose clock runs behind would, and the task must drop what is older.
        var run = Start([], ct, start: ReplicationStart.At(from), channels: new EarliestForTimes(KafkaTestBroker.Channels()));
        await EventuallyAsync(() => Keys().SequenceEqual([2L, 3L]), run, "the rows written after the start time");
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [4], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([2L, 3L, 4L]), run, "a row written after the task started");
        await run.StopAsync();
    }

    [Fact]
    public async Task A_checkpoint_the_source_no_longer_holds_halts_the_task_naming_the_channel_and_the_lost_offsets()
    {
        var ct = KafkaTestBroker.Deadline(60);
        var books = await CreateBooksAsync(ct);
        var first = Start([], ct);
        await WaitUntilReadingAsync(first, ct);
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [1], Vectors(1), ct);
        await _stream.TickAsync(ct);
        await EventuallyAsync(() => Keys().SequenceEqual([1L]), first, "the first row");
        await first.StopAsync();
        var positions = (await _store.Views.GetAsync(TaskId, ct))!.Positions;

        // While the task is stopped, more is written and retention deletes all of it before the task reads it.
        var lost = books.PhysicalChannels[0];
        await _stream.InsertAsync(books.VirtualChannels[0], books.Id, books.Partitions[0].Id, [2, 3], Vectors(2), ct);
        await _stream.TickAsync(ct);
        // The mock broker keeps at most 5 MB per partition (its retention): 6 MB more pushes those messages out.
        for (var i = 0; i < 6; i++) await _producer.ProduceAsync(lost, new byte[900_000], null, ct);

        var second = Start(positions, ct);
        var halted = await Assert.ThrowsAsync<ReplicationHalted>(() => second.Task.WaitAsync(WaitLimit, ct));
        Assert.Contains($"fail to read the source channel {lost}", halted.Reason);
        Assert.Contains("were deleted from the topic (retention) before they were replicated", halted.Reason);
        Assert.Equal([1L], Keys());
    }

    private sealed class EarliestForTimes(ISourceChannels channels) : ISourceChannels
    {
        public Task<ISourceChannelReader> OpenReaderAsync(string channel, SourceChannelStart start, CancellationToken cancellationToken) =>
            channels.OpenReaderAsync(channel, start is SourceChannelStart.AtTimeStart ? SourceChannelStart.Earliest : start, cancellationToken);
    }

    /// <summary>A two-shard collection on pchannels the books collection does not use, its start positions the channels' ends.</summary>
    private async Task<SimulatedCollection> CreateCollectionOnFreshChannelsAsync(string database, string name, SimulatedCollection books, CancellationToken ct)
    {
        var fresh = _meta.PhysicalChannels.Except(books.PhysicalChannels).Take(2).ToList();
        foreach (var pchannel in fresh) _stream.AddPhysicalChannel(pchannel);
        var before = (await _stream.TickAsync(ct)).ToDictionary(m => m.Channel, m => m.Offset);
        var collection = await _meta.CreateCollectionAsync(database, name,
            new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vector", 2), ct, shards: 2, startOffset: p => before[p]);
        Assert.Equal(fresh.Order(StringComparer.Ordinal), collection.PhysicalChannels.Order(StringComparer.Ordinal));
        return collection;
    }
}
