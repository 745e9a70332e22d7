using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.Source.Kafka;
using Cdc.Infrastructure.Tests.Source.Etcd;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Infrastructure.Tests.Source.Metadata;

[Collection(EtcdCollection.Name)]
public sealed class SourceMetaSnapshotTests
{
    [Fact]
    public async Task The_initial_scan_sees_databases_collections_and_partitions_with_the_rebuilt_schema()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("scan");
        var sim = source.Simulator;
        await sim.StartAsync(ct);
        var sales = await sim.CreateDatabaseAsync("sales", ct, new Dictionary<string, string> { ["database.replica.number"] = "1" });
        var schema = SimulatedSchema.Int64KeyFloatVector(dim: 8)
            .WithVarChar("text", 512, analyzed: true)
            .WithBm25("text_bm25", input: "text", output: "sparse")
            .WithDynamicField()
            .WithDescription("orders");
        var orders = await sim.CreateCollectionAsync("sales", "orders", schema, ct, shards: 2,
            consistency: ConsistencyLevel.Strong,
            properties: new Dictionary<string, string> { ["collection.ttl.seconds"] = "3600" },
            startPosition: p => new KafkaOffset(p.EndsWith("_1", StringComparison.Ordinal) ? 42 : 7));
        var p2024 = await sim.CreatePartitionAsync("sales", "orders", "p2024", ct);
        var plain = await sim.CreateCollectionAsync("default", "plain", SimulatedSchema.Int64KeyFloatVector(dim: 4), ct);

        var snapshot = await source.Reader.LoadAsync(ct);

        Assert.True(snapshot.Revision >= sim.Revision);
        Assert.Equal(["default", "sales"], snapshot.Databases.Select(d => d.Name));
        Assert.Equal(SourceDatabase.DefaultId, snapshot.Databases[0].Id);
        var salesDb = snapshot.Databases[1];
        Assert.Equal(sales.Id, salesDb.Id);
        Assert.Equal(SourceDatabaseState.Created, salesDb.State);
        Assert.Equal("1", salesDb.Properties["database.replica.number"]);

        Assert.Equal([orders.Id, plain.Id], snapshot.Collections.Select(c => c.Id));
        var collection = snapshot.Collections[0];
        Assert.Equal((sales.Id, "sales", "orders", "orders"), (collection.DbId, collection.DbName, collection.Name, collection.Description));
        Assert.Equal(SourceCollectionState.Created, collection.State);
        Assert.Equal(2, collection.ShardsNum);
        Assert.Equal(["by-dev-rootcoord-dml_0", "by-dev-rootcoord-dml_1"], collection.PhysicalChannels);
        Assert.Equal([$"by-dev-rootcoord-dml_0_{orders.Id}v0", $"by-dev-rootcoord-dml_1_{orders.Id}v1"], collection.VirtualChannels);
        Assert.Equal(orders.VirtualChannels, collection.VirtualChannels);
        Assert.Equal(7, KafkaMessageId.ToOffset(collection.StartPositions["by-dev-rootcoord-dml_0"].Span));
        Assert.Equal(42, KafkaMessageId.ToOffset(collection.StartPositions["by-dev-rootcoord-dml_1"].Span));
        Assert.Equal(SourceConsistencyLevel.Strong, collection.ConsistencyLevel);
        Assert.Equal("3600", collection.Properties["collection.ttl.seconds"]);
        Assert.Equal(orders.CreatedTimestamp, collection.CreatedTimestamp);
        Assert.True(orders.Id > 400_000_000_000_000_000L, "ids are allocated from a TSO like Milvus'");
        Assert.Equal("default", snapshot.Collections[1].DbName);
        Assert.Equal(["by-dev-rootcoord-dml_2"], snapshot.Collections[1].PhysicalChannels);

        // Parsed facts.
        Assert.Equal(["id", "vector", "text", "sparse"], collection.Schema.Fields.Select(f => f.Name));
        Assert.Equal("id", collection.Schema.PrimaryKey!.Name);
        Assert.Equal(SourceDataType.Int64, collection.Schema.PrimaryKey.DataType);
        Assert.Equal(8, collection.Schema.Field("vector")!.Dimension);
        Assert.True(collection.Schema.EnableDynamicField);
        var function = Assert.Single(collection.Schema.Functions);
        Assert.Equal(("text_bm25", "BM25"), (function.Name, function.Type));
        Assert.Equal(["text"], function.InputFieldNames);
        Assert.Equal(["sparse"], function.OutputFieldNames);

        // The serialized schema, as the target's CreateCollection gets it.
        var decoded = CollectionSchema.Parser.ParseFrom(collection.Schema.Serialized.Span);
        Assert.Equal("orders", decoded.Name);
        Assert.Equal("orders", decoded.Description);
        Assert.True(decoded.EnableDynamicField);
        Assert.Equal(["id", "vector", "text", "sparse"], decoded.Fields.Select(f => f.Name));
        Assert.Equal([100L, 101, 102, 103], decoded.Fields.Select(f => f.FieldID));
        Assert.True(decoded.Fields[0].IsPrimaryKey);
        Assert.Equal(DataType.FloatVector, decoded.Fields[1].DataType);
        Assert.Equal("8", decoded.Fields[1].TypeParams.Single(p => p.Key == "dim").Value);
        Assert.True(decoded.Fields[3].IsFunctionOutput);
        Assert.DoesNotContain(decoded.Fields, f => f.Name is "$meta" or "RowID" or "Timestamp" || f.IsDynamic);
        var decodedFunction = Assert.Single(decoded.Functions);
        Assert.Equal(FunctionType.Bm25, decodedFunction.Type);
        Assert.Equal([102L], decodedFunction.InputFieldIds);
        Assert.Equal([103L], decodedFunction.OutputFieldIds);

        // Partitions: every one is in the snapshot; the default one is not replicated on its own.
        var partitions = snapshot.Partitions.Where(p => p.CollectionId == orders.Id).ToList();
        Assert.Equal(["_default", "p2024"], partitions.Select(p => p.Name));
        Assert.All(partitions, p => Assert.Equal(SourcePartitionState.Created, p.State));
        Assert.Equal(p2024.Id, Assert.Single(snapshot.CreatedPartitionsOf(orders.Id)).Id);
        Assert.Equal(p2024.CreatedTimestamp, partitions[1].CreatedTimestamp);

        // What the target gets.
        var definition = TargetCollectionDefinitions.From(collection);
        Assert.Equal(("orders", 2, TargetConsistencyLevel.Strong), (definition.Name, definition.ShardsNum, definition.ConsistencyLevel));
        Assert.True(definition.Schema.Span.SequenceEqual(collection.Schema.Serialized.Span));
        Assert.Equal("3600", definition.Properties["collection.ttl.seconds"]);
    }

    [Fact]
    public async Task The_simulator_writes_the_milvus_key_layout_with_history_keys_that_the_reader_ignores()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("layout");
        var sim = source.Simulator;
        await sim.StartAsync(ct);
        var coll = await sim.CreateCollectionAsync("default", "c1", SimulatedSchema.Int64KeyFloatVector(dim: 2), ct);
        var root = sim.Layout.MetaPrefix;

        Assert.NotNull(await source.Etcd.GetAsync($"{root}root-coord/database/db-info/1", ct));
        Assert.NotNull(await source.Etcd.GetAsync($"{root}root-coord/database/collection-info/1/{coll.Id}", ct));
        Assert.NotNull(await source.Etcd.GetAsync($"{root}root-coord/fields/{coll.Id}/100", ct));
        Assert.NotNull(await source.Etcd.GetAsync($"{root}root-coord/fields/{coll.Id}/0", ct));
        Assert.NotNull(await source.Etcd.GetAsync($"{root}root-coord/partitions/{coll.Id}/{coll.Partitions[0].Id}", ct));
        var history = await source.Etcd.RangeAsync($"{root}snapshots/root-coord/database/collection-info/1/{coll.Id}_ts", 0, ct);
        Assert.Equal(2, history.Entries.Count); // Creating, then Created

        var snapshot = await source.Reader.LoadAsync(ct);

        Assert.Equal(coll.Id, Assert.Single(snapshot.Collections).Id);
        Assert.Single(snapshot.Partitions);
        Assert.Single(snapshot.Databases);
    }

    [Fact]
    public async Task Fields_below_100_are_skipped_and_meta_becomes_the_dynamic_flag()
    {
        var ct = EtcdTestStore.Deadline(60);
        using var source = new SourceMetaTestSource("fields");
        var sim = source.Simulator;
        var dynamic = await sim.CreateCollectionAsync("default", "dyn", SimulatedSchema.Int64KeyFloatVector(dim: 3).WithDynamicField(), ct);
        var fixedSchema = await sim.CreateCollectionAsync("default", "fixed", SimulatedSchema.Int64KeyFloatVector(dim: 3), ct);
        // A system-range field that is not RowID/Timestamp is skipped too.
        await sim.PutFieldAsync(fixedSchema.Id, new FieldSchema { FieldID = 99, Name = "internal", DataType = DataType.Int64 }, ct);

        var snapshot = await source.Reader.LoadAsync(ct);

        var dyn = snapshot.Collections.Single(c => c.Id == dynamic.Id);
        Assert.Equal(102, dynamic.FieldIds["$meta"]);
        Assert.Equal(0, dynamic.FieldIds["RowID"]);
        Assert.True(dyn.Schema.EnableDynamicField);
        Assert.Equal(["id", "vector"], CollectionSchema.Parser.ParseFrom(dyn.Schema.Serialized.Span).Fields.Select(f => f.Name));
        var fix = snapshot.Collections.Single(c => c.Id == fixedSchema.Id);
        Assert.False(fix.Schema.EnableDynamicField);
        Assert.False(CollectionSchema.Parser.ParseFrom(fix.Schema.Serialized.Span).EnableDynamicField);
        Assert.Equal(["id", "vector"], fix.Schema.Fields.Select(f => f.Name));
    }
}
