using Cdc.Application.Replication.Source;
using Cdc.Domain.SourceMeta;
using Cdc.Infrastructure.Milvus.Protos.Etcd;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.Source.Etcd;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Infrastructure.Tests.Source.Etcd;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;
using Etcdserverpb;
using Google.Protobuf;

namespace Cdc.Infrastructure.Tests.Source.Metadata;

[Collection(EtcdCollection.Name)]
public sealed class SourceMetaWatchTests
{
    private const string EndMarker = "end-of-test";

    /// <summary>Every event up to the database the test creates last as a marker (so "nothing else" is checked too).</summary>
    private static async Task<List<SourceMetaEvent>> EventsUntilMarkerAsync(
        SourceMetaTestSource source, SourceMetadataSnapshot since, CancellationToken ct)
    {
        await source.Simulator.CreateDatabaseAsync(EndMarker, ct);
        return await source.Reader.WatchAsync(since, ct)
            .TakeWhile(e => e is not DatabaseCreated { Database.Name: EndMarker })
            .ToListAsync(ct);
    }

    private static string Describe(SourceMetaEvent e) => e switch
    {
        DatabaseCreated d => $"+db {d.Database.Name}",
        DatabaseDropped d => $"-db {d.Database.Name}",
        CollectionCreated c => $"+coll {c.Collection.DbName}.{c.Collection.Name}",
        CollectionDropped c => $"-coll {c.Collection.DbName}.{c.Collection.Name}",
        CollectionDroppedBeforeCreated c => $"-coll-uncreated {c.Collection.DbName}.{c.Collection.Name}",
        PartitionCreated p => $"+part {p.DbName}.{p.CollectionName}.{p.Partition.Name}",
        PartitionDropped p => $"-part {p.DbName}.{p.CollectionName}.{p.Partition.Name}",
        _ => e.ToString(),
    };

    [Fact]
    public async Task The_watch_reports_creates_and_drops_in_order_and_ignores_default_partitions()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("watch");
        var sim = source.Simulator;
        await sim.StartAsync(ct);
        var snapshot = await source.Reader.LoadAsync(ct);

        await sim.CreateDatabaseAsync("shop", ct);
        var items = await sim.CreateCollectionAsync("shop", "items", SimulatedSchema.Int64KeyFloatVector(dim: 16), ct, shards: 2);
        await sim.CreatePartitionAsync("shop", "items", "winter", ct);
        // A partition-key collection: its _default_0 … partitions are not replicated on their own.
        await sim.CreateCollectionAsync("shop", "keyed",
            SimulatedSchema.Int64KeyFloatVector(dim: 4).WithScalar("tenant", DataType.Int64, partitionKey: true), ct);
        await sim.DropPartitionAsync("shop", "items", "winter", ct);
        await sim.DropCollectionAsync("shop", "items", ct);
        await sim.DropCollectionAsync("shop", "keyed", ct);
        await sim.DropDatabaseAsync("shop", ct);

        var events = await EventsUntilMarkerAsync(source, snapshot, ct);

        Assert.Equal(
        [
            "+db shop", "+coll shop.items", "+part shop.items.winter", "+coll shop.keyed",
            "-part shop.items.winter", "-coll shop.items", "-coll shop.keyed", "-db shop",
        ], events.Select(Describe));
        Assert.Equal(events.Select(e => e.Revision).Order(), events.Select(e => e.Revision));
        Assert.All(events, e => Assert.True(e.Revision > snapshot.Revision));
        var created = Assert.IsType<CollectionCreated>(events[1]).Collection;
        Assert.Equal(items.Id, created.Id);
        Assert.Equal(SourceCollectionState.Created, created.State);
        Assert.Equal(items.VirtualChannels, created.VirtualChannels);
        Assert.Equal(["id", "vector"], created.Schema.Fields.Select(f => f.Name));
        Assert.Equal(16, created.Schema.Field("vector")!.Dimension);
        var dropped = Assert.IsType<CollectionDropped>(events[5]).Collection;
        Assert.Equal(SourceCollectionState.Dropping, dropped.State);
        Assert.Equal(items.Id, Assert.IsType<PartitionCreated>(events[2]).Partition.CollectionId);
    }

    [Fact]
    public async Task A_collection_removed_while_creating_is_reported_as_dropped_before_created()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("rollback");
        var sim = source.Simulator;
        var snapshot = await source.Reader.LoadAsync(ct);

        var failed = await sim.BeginCreateCollectionAsync("default", "failed", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        await sim.RollBackCreateCollectionAsync(failed, ct);
        await sim.CreateCollectionAsync("default", "failed", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);

        var events = await EventsUntilMarkerAsync(source, snapshot, ct);

        Assert.Equal(["-coll-uncreated default.failed", "+coll default.failed"], events.Select(Describe));
        var uncreated = Assert.IsType<CollectionDroppedBeforeCreated>(events[0]).Collection;
        Assert.Equal(failed.Id, uncreated.Id);
        Assert.Equal(SourceCollectionState.Creating, uncreated.State);
        Assert.NotEqual(failed.Id, Assert.IsType<CollectionCreated>(events[1]).Collection.Id);
    }

    [Fact]
    public async Task A_watch_from_a_snapshot_taken_mid_creation_reports_the_create_once_it_completes()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("midway");
        var sim = source.Simulator;
        var pending = await sim.BeginCreateCollectionAsync("default", "pending", SimulatedSchema.Int64KeyFloatVector(dim: 5), ct);
        var snapshot = await source.Reader.LoadAsync(ct);
        Assert.Equal(SourceCollectionState.Creating, Assert.Single(snapshot.Collections).State);
        Assert.Empty(snapshot.CreatedCollections);

        await sim.CompleteCreateCollectionAsync(pending, ct);
        var events = await EventsUntilMarkerAsync(source, snapshot, ct);

        var created = Assert.IsType<CollectionCreated>(Assert.Single(events)).Collection;
        Assert.Equal(pending.Id, created.Id);
        Assert.Equal(5, created.Schema.Field("vector")!.Dimension);
    }

    [Fact]
    public async Task After_a_compaction_the_watch_rescans_and_reports_what_happened_meanwhile()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("compacted");
        var sim = source.Simulator;
        await sim.StartAsync(ct);
        await sim.CreateCollectionAsync("default", "old", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        await sim.CreateCollectionAsync("default", "kept", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        await sim.CreatePartitionAsync("default", "kept", "gone", ct);
        var snapshot = await source.Reader.LoadAsync(ct);

        // While nobody watches: a drop, a create, partition changes, a database; then the history is compacted.
        await sim.DropCollectionAsync("default", "old", ct);
        var fresh = await sim.CreateCollectionAsync("default", "fresh", SimulatedSchema.Int64KeyFloatVector(dim: 9), ct);
        await sim.CreatePartitionAsync("default", "fresh", "p1", ct);
        await sim.DropPartitionAsync("default", "kept", "gone", ct);
        await sim.CreateDatabaseAsync("later", ct);
        await source.Etcd.CompactAsync(sim.Revision, ct);

        await using var watch = source.Reader.WatchAsync(snapshot, ct).GetAsyncEnumerator(ct);
        var rescanned = new List<SourceMetaEvent>();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(await watch.MoveNextAsync());
            rescanned.Add(watch.Current);
        }

        Assert.Equal(
            ["-coll default.old", "-part default.kept.gone", "+db later", "+coll default.fresh", "+part default.fresh.p1"],
            rescanned.Select(Describe));
        Assert.Single(rescanned.Select(e => e.Revision).Distinct());
        Assert.True(rescanned[0].Revision >= sim.Revision);
        var created = Assert.IsType<CollectionCreated>(rescanned[3]).Collection;
        Assert.Equal(fresh.Id, created.Id);
        Assert.Equal(9, created.Schema.Field("vector")!.Dimension);

        // The watch goes on live from the rescan.
        await sim.CreateCollectionAsync("later", "live", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal("+coll later.live", Describe(watch.Current));
        Assert.True(watch.Current.Revision > rescanned[0].Revision);
    }

    [Fact]
    public async Task A_watch_that_loses_its_connection_resumes_and_misses_nothing()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("reconnect");
        var sim = source.Simulator;
        await using var network = TcpProxy.Start(EtcdTestStore.Endpoint);
        using var watching = EtcdTestStore.ClientThrough(network);
        var reader = new EtcdSourceMetadata(watching, sim.Layout);
        var snapshot = await reader.LoadAsync(ct);

        await using var watch = reader.WatchAsync(snapshot, ct).GetAsyncEnumerator(ct);
        await sim.CreateCollectionAsync("default", "first", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal("+coll default.first", Describe(watch.Current));

        network.Hold();
        network.Cut();
        await sim.CreateCollectionAsync("default", "second", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        await sim.CreatePartitionAsync("default", "second", "p", ct);
        await sim.DropCollectionAsync("default", "first", ct);
        network.Release();

        var seen = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await watch.MoveNextAsync());
            seen.Add(Describe(watch.Current));
        }
        Assert.Equal(["+coll default.second", "+part default.second.p", "-coll default.first"], seen);
        Assert.Equal(1, network.ConnectionsCut);
        Assert.True(network.ConnectionsAccepted >= 2, $"{network.ConnectionsAccepted} connections");
    }

    [Fact]
    public async Task A_watch_that_reconnects_into_compacted_history_rescans_and_goes_on()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("reconnect-compacted");
        var sim = source.Simulator;
        await using var network = TcpProxy.Start(EtcdTestStore.Endpoint);
        using var watching = EtcdTestStore.ClientThrough(network);
        var reader = new EtcdSourceMetadata(watching, sim.Layout);
        var snapshot = await reader.LoadAsync(ct);

        await using var watch = reader.WatchAsync(snapshot, ct).GetAsyncEnumerator(ct);
        await sim.CreateCollectionAsync("default", "first", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal("+coll default.first", Describe(watch.Current));

        // Away: a create and a drop, then the history is compacted before the watch comes back.
        network.Hold();
        network.Cut();
        await sim.CreateCollectionAsync("default", "second", SimulatedSchema.Int64KeyFloatVector(dim: 3), ct);
        await sim.DropCollectionAsync("default", "first", ct);
        await source.Etcd.CompactAsync(sim.Revision, ct);
        network.Release();

        var seen = new List<SourceMetaEvent>();
        for (var i = 0; i < 2; i++)
        {
            Assert.True(await watch.MoveNextAsync());
            seen.Add(watch.Current);
        }
        Assert.Equal(["-coll default.first", "+coll default.second"], seen.Select(Describe));
        Assert.Equal(3, Assert.IsType<CollectionCreated>(seen[1]).Collection.Schema.Field("vector")!.Dimension);

        await sim.CreateCollectionAsync("default", "third", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal("+coll default.third", Describe(watch.Current));
    }

    [Fact]
    public async Task A_collection_moved_to_another_database_in_one_transaction_is_neither_dropped_nor_created()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("move");
        var sim = source.Simulator;
        var target = await sim.CreateDatabaseAsync("target", ct);
        var coll = await sim.CreateCollectionAsync("default", "movable", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        var snapshot = await source.Reader.LoadAsync(ct);

        // Milvus' AlterCollectionDB: one transaction, the old key's tombstone and the new key in map order (here the
        // tombstone first, the order that would look like a drop followed by a create).
        var oldKey = sim.Layout.CollectionKey(1, coll.Id);
        var info = CollectionInfo.Parser.ParseFrom((await source.Etcd.GetAsync(oldKey, ct))!.Value.Span);
        info.DbId = target.Id;
        await TransactAsync([(oldKey, MetaTombstone.ToArray()), (sim.Layout.CollectionKey(target.Id, coll.Id), info.ToByteArray())], ct);

        var events = await EventsUntilMarkerAsync(source, snapshot, ct);

        Assert.Empty(events);
        var moved = (await source.Reader.LoadAsync(ct)).Collections.Single(c => c.Id == coll.Id);
        Assert.Equal("target", moved.DbName);
    }

    /// <summary>Puts several keys in one etcd transaction (rpc.proto KV.Txn, through dotnet-etcd).</summary>
    private static async Task TransactAsync(IReadOnlyList<(string Key, byte[] Value)> puts, CancellationToken ct)
    {
        using var etcd = new dotnet_etcd.EtcdClient(EtcdTestStore.Endpoint);
        var transaction = new TxnRequest();
        foreach (var (key, value) in puts)
            transaction.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value) } });
        var answer = await etcd.TransactionAsync(transaction, cancellationToken: ct);
        Assert.True(answer.Succeeded);
    }
}
