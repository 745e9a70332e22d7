using System.Net;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus;
using Cdc.Infrastructure.Milvus.Grpc;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Testing.FakeMilvus;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Milvus;

/// <summary>The fake must behave like a Milvus target on the wire, or tests against it prove nothing.</summary>
/// <remarks>Run against Kestrel here and against the lean h2c transport in <see cref="LeanTransportFakeMilvusServerTests"/>.</remarks>
public class FakeMilvusServerTests : IAsyncLifetime
{
    /// <summary>Whether the fake target serves through <see cref="LeanHttp2Server"/> instead of Kestrel.</summary>
    protected virtual bool LeanTransport => false;

    private FakeMilvusServer _server = null!;
    private GrpcUnaryChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { LeanTransport = LeanTransport });
        _channel = new GrpcUnaryChannel(new SocketsHttpHandler(), _server.Uri, TimeSpan.FromSeconds(5), TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    private Task<TResponse> Call<TResponse>(string method, IMessage request, MessageParser<TResponse> parser, string? db = null)
        where TResponse : IMessage<TResponse> =>
        _channel.CallAsync(MilvusTargetClient.ServicePath + method, request, parser,
            db is null ? [] : [new KeyValuePair<string, string>("dbname", db)], CancellationToken.None);

    private async Task<Rpc.DescribeCollectionResponse> CreateAsync(string name, CollectionSchema schema, int shards = 1)
    {
        var status = await Call("CreateCollection", new Rpc.CreateCollectionRequest { CollectionName = name, Schema = schema.ToByteString(), ShardsNum = shards }, Status.Parser);
        Assert.Equal(0, status.Code);
        return await Call("DescribeCollection", new Rpc.DescribeCollectionRequest { CollectionName = name }, Rpc.DescribeCollectionResponse.Parser);
    }

    [Fact]
    public async Task Unknown_method_is_grpc_unimplemented()
    {
        var error = await Assert.ThrowsAsync<GrpcCallException>(() =>
            _channel.CallAsync("/milvus.proto.milvus.MilvusService/Search", new Rpc.FlushRequest(), Status.Parser, [], CancellationToken.None));

        Assert.Equal(GrpcStatusCode.Unimplemented, error.Status);
    }

    [Fact]
    public async Task Http_1_requests_are_refused_because_the_endpoint_is_http2_only()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.Uri, "milvus.proto.milvus.MilvusService/ListDatabases"))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(GrpcFraming.Frame(new Rpc.ListDatabasesRequest())),
        };

        await Assert.ThrowsAnyAsync<Exception>(async () => (await http.SendAsync(request)).EnsureSuccessStatusCode());
        Assert.Empty(_server.Calls);
    }

    [Fact]
    public async Task Injected_grpc_failures_are_trailers_only_with_a_percent_encoded_message()
    {
        _server.FailNext(1, GrpcStatusCode.Unavailable, message: "node is down: 50%");

        var error = await Assert.ThrowsAsync<GrpcCallException>(() => Call("ListDatabases", new Rpc.ListDatabasesRequest(), Rpc.ListDatabasesResponse.Parser));

        Assert.Equal(GrpcStatusCode.Unavailable, error.Status);
        Assert.Equal("node is down: 50%", error.Detail);
        Assert.NotEmpty((await Call("ListDatabases", new Rpc.ListDatabasesRequest(), Rpc.ListDatabasesResponse.Parser)).DbNames);
    }

    [Fact]
    public async Task String_primary_keys_are_applied_and_deleted()
    {
        var described = await CreateAsync("docs", Schema("docs", stringKey: true));
        var insert = Insert(described.CollectionID, described.VirtualChannelNames[0], []);
        insert.FieldsData[0] = new FieldData { Type = DataType.VarChar, FieldName = "pk", FieldId = 100, Scalars = new ScalarField { StringData = new StringArray { Data = { "a", "b" } } } };
        var delete = Delete(described.CollectionID, described.VirtualChannelNames[0], []);
        delete.PrimaryKeys = new IDs { StrId = new StringArray { Data = { "a" } } };

        var response = await Call("ReplicateMessage", new Rpc.ReplicateMessageRequest
        {
            ChannelName = described.PhysicalChannelNames[0],
            Msgs = { insert.ToByteString(), delete.ToByteString() },
        }, Rpc.ReplicateMessageResponse.Parser);

        Assert.Equal(0, response.Status.Code);
        Assert.Equal(["b"], _server.Rows("default", "docs").Select(r => (string)r.PrimaryKey));
    }

    [Fact]
    public async Task Insert_into_a_vchannel_of_another_collection_is_rejected_and_nothing_is_applied()
    {
        var described = await CreateAsync("books", Schema("books"));

        var response = await Call("ReplicateMessage", new Rpc.ReplicateMessageRequest
        {
            ChannelName = described.PhysicalChannelNames[0],
            Msgs = { Insert(described.CollectionID, "by-dev-rootcoord-dml_0_1v0", [1]).ToByteString() },
        }, Rpc.ReplicateMessageResponse.Parser);

        Assert.NotEqual(0, response.Status.Code);
        Assert.Empty(_server.Rows("default", "books"));
    }

    [Fact]
    public async Task Replicate_to_the_targets_own_replicate_channel_only_reports_its_position()
    {
        var response = await Call("ReplicateMessage", new Rpc.ReplicateMessageRequest { ChannelName = "target-replicate-msg" }, Rpc.ReplicateMessageResponse.Parser);

        Assert.Equal(0, response.Status.Code);
        Assert.Equal(new byte[8], Convert.FromBase64String(response.Position));
    }

    [Fact]
    public async Task Missing_channel_name_is_an_invalid_parameter()
    {
        var response = await Call("ReplicateMessage", new Rpc.ReplicateMessageRequest(), Rpc.ReplicateMessageResponse.Parser);

        Assert.Equal(1100, response.Status.Code);
    }

    [Fact]
    public async Task TtMsgEnabled_can_be_flipped_at_runtime_like_the_real_setting()
    {
        _server.TtMsgEnabled = true;
        var denied = await Call("ReplicateMessage", new Rpc.ReplicateMessageRequest { ChannelName = "target-rootcoord-dml_0" }, Rpc.ReplicateMessageResponse.Parser);
        _server.TtMsgEnabled = false;
        var accepted = await Call("ReplicateMessage", new Rpc.ReplicateMessageRequest { ChannelName = "target-rootcoord-dml_0" }, Rpc.ReplicateMessageResponse.Parser);

        Assert.Equal(1900, denied.Status.Code);
        Assert.Equal(0, accepted.Status.Code);
    }

    [Fact]
    public async Task Dropping_a_partition_drops_its_rows_and_the_default_partition_cannot_be_dropped()
    {
        var described = await CreateAsync("books", Schema("books"));
        await Call("CreatePartition", new Rpc.CreatePartitionRequest { CollectionName = "books", PartitionName = "p1" }, Status.Parser);
        var partitions = await Call("ShowPartitions", new Rpc.ShowPartitionsRequest { CollectionName = "books" }, Rpc.ShowPartitionsResponse.Parser);
        var p1 = partitions.PartitionIDs[partitions.PartitionNames.IndexOf("p1")];
        await Call("ReplicateMessage", new Rpc.ReplicateMessageRequest
        {
            ChannelName = described.PhysicalChannelNames[0],
            Msgs =
            {
                Insert(described.CollectionID, described.VirtualChannelNames[0], [1, 2]).ToByteString(),
                Insert(described.CollectionID, described.VirtualChannelNames[0], [3], partitionId: p1, partitionName: "p1").ToByteString(),
            },
        }, Rpc.ReplicateMessageResponse.Parser);

        var dropped = await Call("DropPartition", new Rpc.DropPartitionRequest { CollectionName = "books", PartitionName = "p1" }, Status.Parser);
        var refused = await Call("DropPartition", new Rpc.DropPartitionRequest { CollectionName = "books", PartitionName = "_default" }, Status.Parser);

        Assert.Equal(0, dropped.Code);
        Assert.NotEqual(0, refused.Code);
        Assert.Equal([1L, 2L], _server.Rows("default", "books").Select(r => (long)r.PrimaryKey).Order());
    }

    [Fact]
    public async Task Databases_scope_collections_and_default_always_exists()
    {
        await Call("CreateDatabase", new Rpc.CreateDatabaseRequest { DbName = "sales" }, Status.Parser);
        await Call("CreateCollection", new Rpc.CreateCollectionRequest { CollectionName = "books", Schema = Schema("books").ToByteString() }, Status.Parser, db: "sales");

        var inSales = await Call("HasCollection", new Rpc.HasCollectionRequest { CollectionName = "books" }, Rpc.BoolResponse.Parser, db: "sales");
        var inDefault = await Call("HasCollection", new Rpc.HasCollectionRequest { CollectionName = "books" }, Rpc.BoolResponse.Parser);
        var duplicate = await Call("CreateDatabase", new Rpc.CreateDatabaseRequest { DbName = "sales" }, Status.Parser);
        var notEmpty = await Call("DropDatabase", new Rpc.DropDatabaseRequest { DbName = "sales" }, Status.Parser);

        Assert.True(inSales.Value);
        Assert.False(inDefault.Value);
        Assert.NotEqual(0, duplicate.Code);
        Assert.NotEqual(0, notEmpty.Code);
        Assert.Equal(["default", "sales"], _server.Databases.Order());
    }

    [Fact]
    public async Task Latency_is_injected_before_answering()
    {
        _server.Latency = TimeSpan.FromMilliseconds(300);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        await Call("ListDatabases", new Rpc.ListDatabasesRequest(), Rpc.ListDatabasesResponse.Parser);

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"answered after {watch.Elapsed}");
    }
}

/// <summary>The same tests with the fake target on its lean h2c transport: the client must not tell the difference.</summary>
public sealed class LeanTransportFakeMilvusServerTests : FakeMilvusServerTests
{
    protected override bool LeanTransport => true;
}
