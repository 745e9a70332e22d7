using Cdc.Application.Replication.Target;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Target;
using Cdc.Infrastructure.Tests.Source.Metadata;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.SourceSimulator;
using Microsoft.Extensions.Logging.Abstractions;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Tests.EndToEnd;

/// <summary>Collections and partitions created in the source's etcd are created on the target, once.</summary>
[Collection("etcd")]
public sealed class MetadataToTargetTests : IAsyncLifetime
{
    private FakeMilvusServer _server = null!;
    private IMilvusTarget _target = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeMilvusServer.StartAsync();
        _target = new MilvusTargetFactory().Create(new MilvusConnection(_server.Uri.ToString()));
    }

    public async Task DisposeAsync()
    {
        await _target.DisposeAsync();
        await _server.DisposeAsync();
    }

    private TargetOperationApplier Applier(CollectionSelection selection, bool ignorePartition = false) =>
        new(_target, selection, TimeProvider.System, NullLogger.Instance, new TargetOperationApplier.WaitOptions(3, TimeSpan.FromMilliseconds(10)), ignorePartition);

    [Fact]
    public async Task A_source_collection_and_its_partition_appear_on_the_target_with_their_schema_and_shards()
    {
        using var source = new SourceMetaTestSource(nameof(A_source_collection_and_its_partition_appear_on_the_target_with_their_schema_and_shards));
        var ct = CancellationToken.None;
        await source.Simulator.StartAsync(ct);
        await source.Simulator.CreateDatabaseAsync("sales", ct);
        await source.Simulator.CreateCollectionAsync("sales", "orders", SimulatedSchema.Int64KeyFloatVector(dim: 8), ct, shards: 2);
        await source.Simulator.CreatePartitionAsync("sales", "orders", "p2024", ct);
        await source.Simulator.CreateCollectionAsync("default", "books", SimulatedSchema.Int64KeyFloatVector(dim: 4), ct);
        var snapshot = await source.Reader.LoadAsync(ct);

        var applier = Applier(new CollectionSelection(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { ["*"] = [new CollectionInfo("*")] }));
        foreach (var collection in snapshot.CreatedCollections)
            Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CollectionCreated(snapshot.Revision, collection), ct));
        var orders = snapshot.FindCollection("sales", "orders")!;
        var partition = snapshot.CreatedPartitionsOf(orders.Id).Single(p => p.Name == "p2024");
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new PartitionCreated(snapshot.Revision, partition, "sales", "orders"), ct));

        var target = _server.Collection("sales", "orders");
        Assert.Equal(2, target.ShardsNum);
        Assert.Equal(2, target.VirtualChannels.Count);
        Assert.Contains("p2024", target.Partitions.Keys);
        Assert.Equal(orders.Schema.Serialized.ToArray(), target.Schema);
        Assert.Contains("books", _server.Collections.Where(c => c.DbName == "default").Select(c => c.Name));
        var create = _server.CallsTo("CreateCollection").Single(c => c.DbName == "sales").RequestAs<Rpc.CreateCollectionRequest>();
        Assert.True(create.Base.ReplicateInfo.IsReplicate);
        Assert.Equal(orders.CreatedTimestamp.Value, create.Base.ReplicateInfo.MsgTimestamp);

        // seen again (a rescan, a restart): nothing is created twice
        Assert.Equal(OperationOutcome.AlreadyApplied, await applier.ApplyAsync(new CollectionCreated(snapshot.Revision, orders), ct));
        Assert.Equal(OperationOutcome.AlreadyApplied, await applier.ApplyAsync(new PartitionCreated(snapshot.Revision, partition, "sales", "orders"), ct));
        Assert.Equal(2, _server.CallsTo("CreateCollection").Count);
        Assert.Single(_server.CallsTo("CreatePartition"));
    }

    [Fact]
    public async Task The_selection_and_ignore_partition_are_honoured()
    {
        using var source = new SourceMetaTestSource(nameof(The_selection_and_ignore_partition_are_honoured));
        var ct = CancellationToken.None;
        await source.Simulator.StartAsync(ct);
        await source.Simulator.CreateDatabaseAsync("sales", ct);
        await source.Simulator.CreateCollectionAsync("sales", "orders", SimulatedSchema.Int64KeyFloatVector(dim: 8), ct);
        await source.Simulator.CreateCollectionAsync("default", "books", SimulatedSchema.Int64KeyFloatVector(dim: 4), ct);
        await source.Simulator.CreatePartitionAsync("default", "books", "p1", ct);
        var snapshot = await source.Reader.LoadAsync(ct);
        var books = snapshot.FindCollection("default", "books")!;

        var applier = Applier(new CollectionSelection([new CollectionInfo("books")], null), ignorePartition: true);
        Assert.Equal(OperationOutcome.NotSelected, await applier.ApplyAsync(new CollectionCreated(1, snapshot.FindCollection("sales", "orders")!), ct));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CollectionCreated(1, books), ct));
        Assert.Equal(OperationOutcome.NotSelected, await applier.ApplyAsync(
            new PartitionCreated(1, snapshot.CreatedPartitionsOf(books.Id).Single(p => p.Name == "p1"), "default", "books"), ct));
        Assert.DoesNotContain("sales", _server.Databases);
        Assert.Empty(_server.CallsTo("CreatePartition"));
    }
}
