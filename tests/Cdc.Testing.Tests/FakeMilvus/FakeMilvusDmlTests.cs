using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.Milvus;
using static Cdc.Testing.Milvus.MilvusTestClient;

namespace Cdc.Testing.Tests.FakeMilvus;

/// <summary>
/// The fake target's normal DML (Upsert, Delete, Query) as a plain client sees it, with Milvus' semantics: what an
/// upsert-mode test compares the target's rows by.
/// </summary>
public sealed class FakeMilvusDmlTests : IAsyncLifetime
{
    private FakeMilvusServer _server = null!;
    private MilvusTestClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { TtMsgEnabled = true });
        _client = new MilvusTestClient(_server.Uri);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private static CollectionSchema Books(bool autoId = false, bool stringKey = false)
    {
        var schema = Cdc.Testing.Milvus.MilvusMessages.Schema("books", dim: 2, stringKey: stringKey);
        schema.Fields[0].AutoID = autoId;
        return schema;
    }

    private async Task CreateLoadedAsync(CollectionSchema schema)
    {
        await _client.CreateCollectionAsync("default", schema);
        await _client.LoadCollectionAsync("default", schema.Name);
    }

    private Task<Cdc.Infrastructure.Milvus.Protos.Rpc.MutationResult> UpsertAsync(long[] keys, float offset = 0, string partition = "") =>
        _client.UpsertAsync("default", "books",
            [Int64Column("pk", keys), FloatVectorColumn("vec", 2, keys.Select(k => new[] { k + offset, k + offset + 0.5f }))], (uint)keys.Length, partition);

    [Fact]
    public async Task An_upsert_inserts_new_keys_and_replaces_existing_ones()
    {
        await CreateLoadedAsync(Books());
        var first = await UpsertAsync([1, 2, 3]);
        Assert.Equal(3, first.UpsertCnt);
        Assert.Equal([1L, 2, 3], first.IDs.IntId.Data);
        await UpsertAsync([2, 3, 4], offset: 100);

        Assert.Equal(4, await _client.CountAsync("default", "books"));
        var rows = await _client.FetchAsync("default", "books", "pk", [1, 2, 4, 9], ["vec"]);
        Assert.Equal([1L, 2, 4], rows.FieldsData.Single(f => f.FieldName == "pk").Scalars.LongData.Data);
        Assert.Equal([1f, 1.5f, 102f, 102.5f, 104f, 104.5f], rows.FieldsData.Single(f => f.FieldName == "vec").Vectors.FloatVector.Data);
    }

    [Fact]
    public async Task A_key_upserted_into_two_partitions_is_two_rows_for_count_and_one_for_a_fetch()
    {
        await CreateLoadedAsync(Books());
        await CreatePartitionAsync("p1");
        await UpsertAsync([7]);
        await UpsertAsync([7], offset: 10, partition: "p1");

        Assert.Equal(2, await _client.CountAsync("default", "books"));
        var rows = await _client.FetchAsync("default", "books", "pk", [7], ["vec"]);
        Assert.Equal([17f, 17.5f], rows.FieldsData.Single(f => f.FieldName == "vec").Vectors.FloatVector.Data); // the latest
    }

    [Fact]
    public async Task A_delete_by_primary_key_expression_removes_the_rows_of_those_keys()
    {
        await CreateLoadedAsync(Books());
        await UpsertAsync([1, 2, 3, 4]);

        var deleted = await _client.DeleteAsync("default", "books", "pk in [2, 4, 99]");

        Assert.Equal(3, deleted.DeleteCnt);
        Assert.Equal(2, await _client.CountAsync("default", "books"));
        Assert.Equal([1L, 3], _server.Rows("default", "books").Select(r => (long)r.PrimaryKey).Order());
        await _client.DeleteAsync("default", "books", "pk == 1");
        Assert.Equal([3L], _server.Rows("default", "books").Select(r => (long)r.PrimaryKey));
    }

    [Fact]
    public async Task String_keys_are_read_with_the_grammars_escapes()
    {
        await CreateLoadedAsync(Books(stringKey: true));
        string[] keys = ["plain", "with \"quotes\"", "back\\slash", "it's", "line\nbreak"];
        await _client.UpsertAsync("default", "books",
            [VarCharColumn("pk", keys), FloatVectorColumn("vec", 2, keys.Select(_ => new[] { 1f, 2f }))], (uint)keys.Length);

        await _client.DeleteAsync("default", "books", """pk in ["with \"quotes\"", 'back\\slash', "it\u0027s", "line\nbreak"]""");

        Assert.Equal(["plain"], _server.Rows("default", "books").Select(r => (string)r.PrimaryKey));
    }

    [Theory]
    [InlineData("pk > 3")]
    [InlineData("pk in [1, 2")]
    [InlineData("vec in [1]")]
    [InlineData("pk in [\"a\"]")]
    [InlineData("pk in [1] and pk in [2]")]
    public async Task An_expression_the_fake_does_not_understand_is_an_error(string expression)
    {
        await CreateLoadedAsync(Books());
        await UpsertAsync([1]);

        var error = await Assert.ThrowsAsync<MilvusCallFailed>(() => _client.DeleteAsync("default", "books", expression));

        Assert.Equal(1100, error.Code);
        Assert.Equal(1, await _client.CountAsync("default", "books"));
    }

    [Fact]
    public async Task Columns_that_do_not_fit_the_schema_are_refused_and_nothing_is_written()
    {
        await CreateLoadedAsync(Books());
        async Task<MilvusCallFailed> Refused(IReadOnlyList<FieldData> columns, uint rows) =>
            await Assert.ThrowsAsync<MilvusCallFailed>(() => _client.UpsertAsync("default", "books", columns, rows));

        Assert.Contains("fieldSchema(vec) has no corresponding fieldData", (await Refused([Int64Column("pk", [1])], 1)).Reason);
        Assert.Contains("is not equal to schema dim (2)", (await Refused([Int64Column("pk", [1]), FloatVectorColumn("vec", 3, [[1f, 2f, 3f]])], 1)).Reason);
        Assert.Contains("is not equal to passed num_rows (2)", (await Refused([Int64Column("pk", [1]), FloatVectorColumn("vec", 2, [[1f, 2f]])], 2)).Reason);
        Assert.Contains("not in the schema", (await Refused([Int64Column("pk", [1]), FloatVectorColumn("vec", 2, [[1f, 2f]]), Int64Column("extra", [5])], 1)).Reason);
        Assert.Equal(0, await _client.CountAsync("default", "books"));
    }

    [Fact]
    public async Task An_autoID_collection_refuses_upserts_that_bring_their_keys()
    {
        await CreateLoadedAsync(Books(autoId: true));

        var error = await Assert.ThrowsAsync<MilvusCallFailed>(() => UpsertAsync([1]));

        Assert.Contains("auto id enabled", error.Reason);
    }

    [Fact]
    public async Task A_standby_target_refuses_writes_and_a_collection_not_loaded_refuses_queries()
    {
        await _client.CreateCollectionAsync("default", Books());
        Assert.Equal(101, (await Assert.ThrowsAsync<MilvusCallFailed>(() => _client.CountAsync("default", "books"))).Code);

        _server.TtMsgEnabled = false;
        Assert.Equal(1303, (await Assert.ThrowsAsync<MilvusCallFailed>(() => UpsertAsync([1]))).Code);
        Assert.Equal(1303, (await Assert.ThrowsAsync<MilvusCallFailed>(() => _client.DeleteAsync("default", "books", "pk in [1]"))).Code);
    }

    private async Task CreatePartitionAsync(string name)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(_server.Uri);
        var client = new Cdc.Infrastructure.Milvus.Protos.Rpc.MilvusService.MilvusServiceClient(channel);
        var status = await client.CreatePartitionAsync(new Cdc.Infrastructure.Milvus.Protos.Rpc.CreatePartitionRequest { CollectionName = "books", PartitionName = name });
        Assert.Equal(0, status.Code);
    }
}
