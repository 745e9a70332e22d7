using System.Buffers;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Target;
using Cdc.Testing.FakeMilvus;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Target;

/// <summary>
/// The client in apply mode "upsert": rows go through the target's normal Upsert and Delete RPCs, the columns as they
/// were encoded, and DDL carries no replicate metadata, as an ordinary client's calls to an ordinary Milvus.
/// </summary>
public sealed class MilvusTargetDmlTests : IAsyncLifetime
{
    private static readonly HybridTimestamp SourceTs = HybridTimestamp.FromParts(1_723_104_195_025, 3);
    private FakeMilvusServer _server = null!;
    private IMilvusTarget _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { TtMsgEnabled = true });
        _client = new MilvusTargetFactory().Create(new MilvusConnection(_server.Uri.ToString()) { ApplyMode = ApplyMode.Upsert });
        await _client.CreateDatabaseAsync("sales", new Dictionary<string, string>(), SourceTs, default);
        await _client.CreateCollectionAsync("sales", new TargetCollectionDefinition("books", Schema("books", dim: 2).ToByteArray(), 2,
            TargetConsistencyLevel.Bounded, new Dictionary<string, string>()), SourceTs, default);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    /// <summary>The encoded columns of an Insert's fields_data, as the upsert writer passes them on.</summary>
    private static List<ReadOnlyMemory<byte>> Columns(InsertRequest insert) => [.. insert.FieldsData.Select(f => (ReadOnlyMemory<byte>)f.ToByteArray())];

    [Fact]
    public async Task An_upsert_carries_the_columns_byte_for_byte_into_the_database_and_partition_named()
    {
        var insert = Insert(1, "ch_1v0", [1, 2, 3], dim: 2);

        var taken = await _client.UpsertAsync("sales", new TargetUpsert("books", "_default", Columns(insert), 3), default);

        Assert.Equal(3, taken);
        var call = Assert.Single(_server.CallsTo("Upsert"));
        Assert.Equal("sales", call.DbName);
        var request = call.RequestAs<Rpc.UpsertRequest>();
        Assert.Equal(("books", "_default", 3u, ""), (request.CollectionName, request.PartitionName, request.NumRows, request.DbName));
        Assert.Equal(insert.FieldsData, request.FieldsData);
        Assert.Null(request.Base.ReplicateInfo);
        Assert.Equal([1L, 2, 3], _server.Rows("sales", "books").Select(r => (long)r.PrimaryKey).Order());
    }

    [Fact]
    public async Task A_delete_sends_its_expression_and_answers_the_count()
    {
        await _client.UpsertAsync("sales", new TargetUpsert("books", "", Columns(Insert(1, "ch_1v0", [1, 2, 3], dim: 2)), 3), default);

        var deleted = await _client.DeleteAsync("sales", new TargetDelete("books", "", "pk in [1,3]"), default);

        Assert.Equal(2, deleted);
        var request = Assert.Single(_server.CallsTo("Delete")).RequestAs<Rpc.DeleteRequest>();
        Assert.Equal(("books", "", "pk in [1,3]"), (request.CollectionName, request.PartitionName, request.Expr));
        Assert.Equal([2L], _server.Rows("sales", "books").Select(r => (long)r.PrimaryKey));
    }

    [Fact]
    public async Task A_refused_write_is_a_milvus_error_naming_the_rpc()
    {
        var error = await Assert.ThrowsAsync<MilvusTargetException>(() =>
            _client.UpsertAsync("sales", new TargetUpsert("books", "", Columns(Insert(1, "ch_1v0", [1], dim: 4)), 1), default));

        Assert.Equal(("Upsert", 1100, false), (error.Operation, error.MilvusCode, error.IsRetryable));
        Assert.Contains("schema dim (2)", error.Message);
    }

    [Fact]
    public async Task Ddl_in_upsert_mode_carries_no_replicate_metadata()
    {
        await _client.CreateIndexAsync("sales", new TargetIndexDefinition("books", "vec", "vec_idx", new Dictionary<string, string> { ["index_type"] = "HNSW" }), SourceTs, default);
        await _client.LoadCollectionAsync("sales", "books", 1, SourceTs, default);
        await _client.FlushAsync("sales", "books", SourceTs, default);
        await _client.DropCollectionAsync("sales", "books", SourceTs, default);

        var ddl = _server.Calls.Where(c => c.Method is "CreateDatabase" or "CreateCollection" or "CreateIndex" or "LoadCollection" or "Flush" or "DropCollection").ToList();
        Assert.Equal(6, ddl.Count);
        Assert.All(ddl, c => Assert.Null(((MsgBase)c.Request.Descriptor.FindFieldByNumber(1).Accessor.GetValue(c.Request))?.ReplicateInfo));
    }

    [Fact]
    public void An_encoded_upsert_is_byte_for_byte_the_whole_request()
    {
        var columns = Insert(1, "ch_1v0", [1, 2], dim: 2).FieldsData;
        var fields = new Rpc.UpsertRequest { Base = new MsgBase(), CollectionName = "books", PartitionName = "p1", NumRows = 2, SchemaTimestamp = 9, HashKeys = { 4, 5 } };
        var split = columns.Select(c => c.ToByteArray()).Select(b => MemorySegments.ToSequence([b.AsMemory(0, 3), b.AsMemory(3)])).ToList();

        var context = new RecordingSerializationContext();
        EncodedUpsertRequest.Method.RequestMarshaller.ContextualSerializer(new EncodedUpsertRequest(fields, split), context);

        var whole = fields.Clone();
        whole.FieldsData.AddRange(columns);
        Assert.Equal(whole.ToByteArray(), context.Written.ToArray());
        Assert.Equal(context.Written.Length, context.DeclaredLength);
        Assert.Equal("milvus.proto.milvus.MilvusService/Upsert", EncodedUpsertRequest.Method.FullName.TrimStart('/'));
    }

    private sealed class RecordingSerializationContext : Grpc.Core.SerializationContext
    {
        private readonly ArrayBufferWriter<byte> _written = new();

        public ReadOnlyMemory<byte> Written => _written.WrittenMemory;

        public int? DeclaredLength { get; private set; }

        public override void SetPayloadLength(int payloadLength) => DeclaredLength = payloadLength;

        public override IBufferWriter<byte> GetBufferWriter() => _written;

        public override void Complete()
        {
        }
    }
}
