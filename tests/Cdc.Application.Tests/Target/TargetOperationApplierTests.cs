using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Target;
using Cdc.Testing.FakeMilvus;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Application.Tests.Target;

/// <summary>Replicate-channel operations reach the fake target as a real target would receive them.</summary>
public sealed class TargetOperationApplierTests : IAsyncLifetime
{
    private static readonly HybridTimestamp Ts = HybridTimestamp.FromParts(1_723_104_195_025, 2);
    private static readonly CollectionSelection AllDatabases = new(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { ["*"] = [new CollectionInfo("*")] });
    private static readonly CollectionSelection DefaultDatabase = new(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { ["default"] = [new CollectionInfo("*")] });
    private static readonly CollectionSelection WholeCluster = new([new CollectionInfo("*")], null);
    private FakeMilvusServer _server = null!;
    private IMilvusTarget _target = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeMilvusServer.StartAsync();
        _target = new MilvusTargetFactory().Create(new MilvusConnection(_server.Uri.ToString()));
        await _target.CreateCollectionAsync("default", new TargetCollectionDefinition("books", Schema("books").ToByteArray(), 2,
            TargetConsistencyLevel.Bounded, new Dictionary<string, string>()), Ts, default);
    }

    public async Task DisposeAsync()
    {
        await _target.DisposeAsync();
        await _server.DisposeAsync();
    }

    private TargetOperationApplier Applier(CollectionSelection selection, TargetNames? names = null) =>
        new(_target, selection, TimeProvider.System, NullLogger.Instance, new TargetOperationApplier.WaitOptions(3, TimeSpan.FromMilliseconds(10)), names: names);

    /// <summary>A created source collection with a real schema (named as on the source).</summary>
    private static SourceCollection TestCollection(string database, string name) =>
        Cdc.Testing.TestRoutes.Source(name.GetHashCode(StringComparison.Ordinal), name, [$"by-dev-rootcoord-dml_0_{name.Length}v0"], database) with
        {
            Schema = new SourceCollectionSchema(Schema(name).ToByteArray(), [], [], false),
        };

    private bool HasCollection(string database, string name) => _server.Collections.Any(c => c.DbName == database && c.Name == name);

    private static ChangeOrigin Origin() => new("by-dev-replicate-msg", new KafkaOffset(7), null, Ts, 1, 1, false, "");

    [Fact]
    public async Task Index_load_release_and_flush_operations_are_applied_with_the_source_timestamp()
    {
        var applier = Applier(DefaultDatabase);
        var index = new Dictionary<string, string> { ["index_type"] = "HNSW", ["metric_type"] = "L2" };
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CreateIndexChange(Origin(), default, "", "books", "vec", "vec_idx", index), default));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new LoadCollectionChange(Origin(), default, "default", "books", 1), default));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new FlushChange(Origin(), default, "default", ["books", "other_db_unknown"]), default));

        var books = _server.Collection("default", "books");
        Assert.Equal(("vec", "vec_idx", "HNSW"), (books.Indexes.Single().FieldName, books.Indexes.Single().IndexName, books.Indexes.Single().Parameters["index_type"]));
        Assert.True(books.IsLoaded);
        var create = _server.CallsTo("CreateIndex").Single();
        Assert.Equal("default", create.DbName);
        var request = create.RequestAs<Rpc.CreateIndexRequest>();
        Assert.True(request.Base.ReplicateInfo.IsReplicate);
        Assert.Equal(Ts.Value, request.Base.ReplicateInfo.MsgTimestamp);
        Assert.Single(_server.CallsTo("Flush")); // only the selected collection that exists

        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new ReleaseCollectionChange(Origin(), default, "default", "books"), default));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new DropIndexChange(Origin(), default, "default", "books", "vec", "vec_idx"), default));
        books = _server.Collection("default", "books");
        Assert.False(books.IsLoaded);
        Assert.Empty(books.Indexes);
    }

    [Fact]
    public async Task Partition_loads_reach_the_target()
    {
        await _target.CreatePartitionAsync("default", "books", "2024", Ts, default);
        var applier = Applier(DefaultDatabase);
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new LoadPartitionsChange(Origin(), default, "default", "books", ["2024"], 1), default));
        Assert.Equal(["2024"], _server.Collection("default", "books").LoadedPartitions);
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new ReleasePartitionsChange(Origin(), default, "default", "books", ["2024"]), default));
        Assert.Empty(_server.Collection("default", "books").LoadedPartitions);
    }

    [Fact]
    public async Task Database_operations_are_idempotent_and_only_for_tasks_that_select_databases()
    {
        Assert.Equal(OperationOutcome.NotSelected, await Applier(DefaultDatabase).ApplyAsync(new CreateDatabaseChange(Origin(), default, "sales", new Dictionary<string, string>()), default));
        Assert.DoesNotContain("sales", _server.Databases);

        var applier = Applier(AllDatabases);
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CreateDatabaseChange(Origin(), default, "sales", new Dictionary<string, string>()), default));
        Assert.Equal(OperationOutcome.AlreadyApplied, await applier.ApplyAsync(new CreateDatabaseChange(Origin(), default, "sales", new Dictionary<string, string>()), default));
        Assert.Single(_server.CallsTo("CreateDatabase"));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new DropDatabaseChange(Origin(), default, "sales"), default));
        Assert.DoesNotContain("sales", _server.Databases);
        // dropping it again is harmless: the target treats it as done or says it is gone
        Assert.Contains(await applier.ApplyAsync(new DropDatabaseChange(Origin(), default, "sales"), default), new[] { OperationOutcome.Applied, OperationOutcome.AlreadyApplied });
        _server.FailNextWithStatus(1, 800, "database not found[database=sales]", method: "DropDatabase");
        Assert.Equal(OperationOutcome.AlreadyApplied, await applier.ApplyAsync(new DropDatabaseChange(Origin(), default, "sales"), default));
    }

    [Fact]
    public async Task An_operation_on_a_collection_outside_the_selection_or_missing_on_the_target_is_not_applied()
    {
        var applier = Applier(DefaultDatabase);
        Assert.Equal(OperationOutcome.NotSelected, await applier.ApplyAsync(new LoadCollectionChange(Origin(), default, "sales", "books", 1), default));
        Assert.Equal(OperationOutcome.TargetMissing, await applier.ApplyAsync(new LoadCollectionChange(Origin(), default, "default", "ghost", 1), default));
        Assert.Empty(_server.CallsTo("LoadCollection"));
        Assert.Equal(3, _server.CallsTo("DescribeCollection").Count(c => c.RequestAs<Rpc.DescribeCollectionRequest>().CollectionName == "ghost"));
    }

    [Fact]
    public async Task Collection_infos_star_is_the_whole_cluster_databases_created_and_dropped_later_included()
    {
        var applier = Applier(WholeCluster);
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CreateDatabaseChange(Origin(), default, "sales", new Dictionary<string, string>()), default));
        Assert.Contains("sales", _server.Databases);
        var created = new CollectionCreated(1, TestCollection("sales", "orders"));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(created, default));
        Assert.True(HasCollection("sales", "orders"));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new LoadCollectionChange(Origin(), default, "sales", "orders", 1), default));
        await _target.DropCollectionAsync("sales", "orders", Ts, default); // the source drops its collections first (a DML-channel message)
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new DropDatabaseChange(Origin(), default, "sales"), default));
        Assert.DoesNotContain("sales", _server.Databases);
    }

    [Fact]
    public async Task Named_collections_create_their_database_but_never_drop_or_alter_it()
    {
        var applier = Applier(new CollectionSelection(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { ["sales"] = [new CollectionInfo("orders")] }));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CreateDatabaseChange(Origin(), default, "sales", new Dictionary<string, string>()), default));
        Assert.Equal(OperationOutcome.NotSelected, await applier.ApplyAsync(new CreateDatabaseChange(Origin(), default, "hr", new Dictionary<string, string>()), default));
        Assert.Equal(OperationOutcome.NotSelected, await applier.ApplyAsync(new CollectionCreated(1, TestCollection("sales", "invoices")), default));
        Assert.Equal(OperationOutcome.NotSelected, await applier.ApplyAsync(new DropDatabaseChange(Origin(), default, "sales"), default));
        Assert.Equal(OperationOutcome.NotSelected,
            await applier.ApplyAsync(new AlterDatabaseChange(Origin(), default, "sales", new Dictionary<string, string> { ["k"] = "v" }, []), default));
        Assert.Contains("sales", _server.Databases);
        Assert.DoesNotContain("hr", _server.Databases);
        Assert.False(HasCollection("sales", "invoices"));
    }

    [Fact]
    public async Task A_name_mapping_sends_every_operation_to_the_mapped_database_and_collection()
    {
        var names = new TargetNames([new NameMapping("sales", "sales_dr", new Dictionary<string, string> { ["orders"] = "orders_copy" })]);
        var applier = Applier(WholeCluster, names);
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CollectionCreated(1, TestCollection("sales", "orders")), default));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CollectionCreated(2, TestCollection("sales", "items")), default));
        var index = new Dictionary<string, string> { ["index_type"] = "HNSW", ["metric_type"] = "L2" };
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new CreateIndexChange(Origin(), default, "sales", "orders", "vec", "vec_idx", index), default));
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new LoadCollectionChange(Origin(), default, "sales", "orders", 1), default));

        Assert.DoesNotContain("sales", _server.Databases);
        var copy = _server.Collection("sales_dr", "orders_copy");
        Assert.True(copy.IsLoaded);
        Assert.Equal("vec_idx", copy.Indexes.Single().IndexName);
        Assert.True(HasCollection("sales_dr", "items")); // not named in the mapping: its own name, in the mapped database
        await _target.DropCollectionAsync("sales_dr", "orders_copy", Ts, default);
        await _target.DropCollectionAsync("sales_dr", "items", Ts, default);
        Assert.Equal(OperationOutcome.Applied, await applier.ApplyAsync(new DropDatabaseChange(Origin(), default, "sales"), default));
        Assert.DoesNotContain("sales_dr", _server.Databases);
    }
}
