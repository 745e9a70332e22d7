using System.Net;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Testing.FakeMilvus;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using Status = Cdc.Infrastructure.Milvus.Protos.Common.Status;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Testing.Tests.FakeMilvus;

/// <summary>
/// The fake must behave like a Milvus target on the wire, or tests against it prove nothing: called here through the
/// generated MilvusService client on Grpc.Net.Client, not through the CDC's own client.
/// </summary>
public sealed class FakeMilvusServerTests : IAsyncLifetime
{
    private FakeMilvusServer _server = null!;
    private GrpcChannel _channel = null!;
    private Rpc.MilvusService.MilvusServiceClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeMilvusServer.StartAsync();
        _channel = GrpcChannel.ForAddress(_server.Uri);
        _client = new Rpc.MilvusService.MilvusServiceClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    private static async Task<TResponse> Call<TRequest, TResponse>(Func<TRequest, CallOptions, AsyncUnaryCall<TResponse>> rpc, TRequest request, string? db = null)
    {
        using var call = rpc(request, new CallOptions(db is null ? null : new Metadata { { "dbname", db } }, DateTime.UtcNow.AddSeconds(30)));
        return await call.ResponseAsync;
    }

    private async Task<Rpc.DescribeCollectionResponse> CreateAsync(string name, CollectionSchema schema, int shards = 1)
    {
        var status = await Call(_client.CreateCollectionAsync, new Rpc.CreateCollectionRequest { CollectionName = name, Schema = schema.ToByteString(), ShardsNum = shards });
        Assert.Equal(0, status.Code);
        return await Call(_client.DescribeCollectionAsync, new Rpc.DescribeCollectionRequest { CollectionName = name });
    }

    [Fact]
    public async Task Unknown_method_is_grpc_unimplemented()
    {
        var search = new Method<Rpc.FlushRequest, Status>(
            MethodType.Unary, Rpc.MilvusService.Descriptor.FullName, "Search",
            Marshallers.Create(r => r.ToByteArray(), Rpc.FlushRequest.Parser.ParseFrom),
            Marshallers.Create(r => r.ToByteArray(), Status.Parser.ParseFrom));

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Call((r, o) => _channel.CreateCallInvoker().AsyncUnaryCall(search, null, o, r), new Rpc.FlushRequest()));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Empty(_server.Calls);
    }

    [Fact]
    public async Task Http_1_requests_are_refused_because_the_endpoint_is_http2_only()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.Uri, "milvus.proto.milvus.MilvusService/ListDatabases"))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            // A gRPC frame of an empty ListDatabasesRequest: not compressed, length 0.
            Content = new ByteArrayContent(new byte[5]),
        };

        await Assert.ThrowsAnyAsync<Exception>(async () => (await http.SendAsync(request)).EnsureSuccessStatusCode());
        Assert.Empty(_server.Calls);
    }

    [Fact]
    public async Task Injected_grpc_failures_reach_the_client_with_their_message_intact()
    {
        _server.FailNext(1, StatusCode.Unavailable, message: "node is down: 50% / é");

        var error = await Assert.ThrowsAsync<RpcException>(() => Call(_client.ListDatabasesAsync, new Rpc.ListDatabasesRequest()));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("node is down: 50% / é", error.Status.Detail);
        Assert.NotEmpty((await Call(_client.ListDatabasesAsync, new Rpc.ListDatabasesRequest())).DbNames);
    }

    [Fact]
    public async Task Messages_out_of_their_channels_time_order_are_recorded_with_channel_kind_and_timestamps()
    {
        var described = await CreateAsync("books", Schema("books"));
        var pchannel = described.PhysicalChannelNames[0];
        var vchannel = described.VirtualChannelNames[0];
        ByteString Tick(ulong ts) => new Cdc.Infrastructure.Milvus.Protos.Msg.TimeTickMsg { Base = Base(MsgType.TimeTick, ts) }.ToByteString();
        Task<Rpc.ReplicateMessageResponse> Send(params ByteString[] msgs) =>
            Call(_client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest { ChannelName = pchannel, Msgs = { msgs } });

        // In order: a tick, rows above it, a later tick.
        await Send(Tick(100), Insert(described.CollectionID, vchannel, [1], ts: 101).ToByteString(), Tick(110));
        Assert.Empty(_server.TimeViolations);
        Assert.Equal(110UL, _server.LastTicks[pchannel]);

        // A tick that goes back, an Insert at the last tick and a Delete below it: each recorded, none moves the tick back.
        await Send(Tick(105), Insert(described.CollectionID, vchannel, [2], ts: 110).ToByteString(), Delete(described.CollectionID, vchannel, [1], ts: 90).ToByteString());
        Assert.Equal(
            [new FakeTimeViolation(pchannel, "TimeTick", 105, 110), new FakeTimeViolation(pchannel, "Insert", 110, 110), new FakeTimeViolation(pchannel, "Delete", 90, 110)],
            _server.TimeViolations);
        Assert.Equal(110UL, _server.LastTicks[pchannel]);

        // A replicated drop lands on every pchannel of the collection at its msgTimestamp: below the last tick here.
        var status = await Call(_client.DropCollectionAsync, new Rpc.DropCollectionRequest
        {
            CollectionName = "books",
            Base = new MsgBase { ReplicateInfo = new ReplicateInfo { IsReplicate = true, MsgTimestamp = 108 } },
        });
        Assert.Equal(0, status.Code);
        Assert.Equal(new FakeTimeViolation(pchannel, "DropCollection", 108, 110), _server.TimeViolations[^1]);
    }

    [Fact]
    public async Task A_fake_that_keeps_no_rows_still_checks_the_time_of_every_Insert_and_of_each_of_its_rows()
    {
        // The benchmarks' fake: Inserts are read only for their base and row timestamps, their columns skipped.
        await using var server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { ApplyRows = false });
        using var channel = GrpcChannel.ForAddress(server.Uri);
        var client = new Rpc.MilvusService.MilvusServiceClient(channel);
        var status = await Call(client.CreateCollectionAsync, new Rpc.CreateCollectionRequest { CollectionName = "books", Schema = Schema("books").ToByteString(), ShardsNum = 1 });
        Assert.Equal(0, status.Code);
        var described = await Call(client.DescribeCollectionAsync, new Rpc.DescribeCollectionRequest { CollectionName = "books" });
        var pchannel = described.PhysicalChannelNames[0];
        var vchannel = described.VirtualChannelNames[0];
        ByteString Tick(ulong ts) => new Cdc.Infrastructure.Milvus.Protos.Msg.TimeTickMsg { Base = Base(MsgType.TimeTick, ts) }.ToByteString();
        async Task Send(params ByteString[] msgs)
        {
            var response = await Call(client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest { ChannelName = pchannel, Msgs = { msgs } });
            Assert.Equal(0, response.Status.Code);
        }

        await Send(Tick(100), Insert(described.CollectionID, vchannel, [1, 2, 3], dim: 768, ts: 101).ToByteString(), Tick(110));
        Assert.Empty(server.TimeViolations);

        // Base above the last tick, but one row's timestamp (the repeated field, packed) at it.
        var late = Insert(described.CollectionID, vchannel, [4, 5], dim: 768, ts: 120);
        late.Timestamps[1] = 110;
        await Send(late.ToByteString(), Insert(described.CollectionID, vchannel, [6], ts: 105).ToByteString(), Tick(130));

        Assert.Equal([new FakeTimeViolation(pchannel, "Insert", 110, 110), new FakeTimeViolation(pchannel, "Insert", 105, 110)], server.TimeViolations);
        Assert.Equal(130UL, server.LastTicks[pchannel]);
        Assert.Empty(server.Rows("default", "books"));
    }

    [Fact]
    public async Task String_primary_keys_are_applied_and_deleted()
    {
        var described = await CreateAsync("docs", Schema("docs", stringKey: true));
        var insert = Insert(described.CollectionID, described.VirtualChannelNames[0], []);
        insert.FieldsData[0] = new FieldData { Type = DataType.VarChar, FieldName = "pk", FieldId = 100, Scalars = new ScalarField { StringData = new StringArray { Data = { "a", "b" } } } };
        var delete = Delete(described.CollectionID, described.VirtualChannelNames[0], []);
        delete.PrimaryKeys = new IDs { StrId = new StringArray { Data = { "a" } } };

        var response = await Call(_client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest
        {
            ChannelName = described.PhysicalChannelNames[0],
            Msgs = { insert.ToByteString(), delete.ToByteString() },
        });

        Assert.Equal(0, response.Status.Code);
        Assert.Equal(["b"], _server.Rows("default", "docs").Select(r => (string)r.PrimaryKey));
    }

    [Fact]
    public async Task Insert_into_a_vchannel_of_another_collection_is_rejected_and_nothing_is_applied()
    {
        var described = await CreateAsync("books", Schema("books"));

        var response = await Call(_client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest
        {
            ChannelName = described.PhysicalChannelNames[0],
            Msgs = { Insert(described.CollectionID, "by-dev-rootcoord-dml_0_1v0", [1]).ToByteString() },
        });

        Assert.NotEqual(0, response.Status.Code);
        Assert.Empty(_server.Rows("default", "books"));
    }

    [Fact]
    public async Task Replicate_to_the_targets_own_replicate_channel_only_reports_its_position()
    {
        var response = await Call(_client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest { ChannelName = "target-replicate-msg" });

        Assert.Equal(0, response.Status.Code);
        Assert.Equal(new byte[8], Convert.FromBase64String(response.Position));
    }

    [Fact]
    public async Task Missing_channel_name_is_an_invalid_parameter()
    {
        var response = await Call(_client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest());

        Assert.Equal(1100, response.Status.Code);
    }

    [Fact]
    public async Task TtMsgEnabled_can_be_flipped_at_runtime_like_the_real_setting()
    {
        _server.TtMsgEnabled = true;
        var denied = await Call(_client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest { ChannelName = "target-rootcoord-dml_0" });
        _server.TtMsgEnabled = false;
        var accepted = await Call(_client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest { ChannelName = "target-rootcoord-dml_0" });

        Assert.Equal(1900, denied.Status.Code);
        Assert.Equal(0, accepted.Status.Code);
    }

    [Fact]
    public async Task Dropping_a_partition_drops_its_rows_and_the_default_partition_cannot_be_dropped()
    {
        var described = await CreateAsync("books", Schema("books"));
        await Call(_client.CreatePartitionAsync, new Rpc.CreatePartitionRequest { CollectionName = "books", PartitionName = "p1" });
        var partitions = await Call(_client.ShowPartitionsAsync, new Rpc.ShowPartitionsRequest { CollectionName = "books" });
        var p1 = partitions.PartitionIDs[partitions.PartitionNames.IndexOf("p1")];
        await Call(_client.ReplicateMessageAsync, new Rpc.ReplicateMessageRequest
        {
            ChannelName = described.PhysicalChannelNames[0],
            Msgs =
            {
                Insert(described.CollectionID, described.VirtualChannelNames[0], [1, 2]).ToByteString(),
                Insert(described.CollectionID, described.VirtualChannelNames[0], [3], partitionId: p1, partitionName: "p1").ToByteString(),
            },
        });

        var dropped = await Call(_client.DropPartitionAsync, new Rpc.DropPartitionRequest { CollectionName = "books", PartitionName = "p1" });
        var refused = await Call(_client.DropPartitionAsync, new Rpc.DropPartitionRequest { CollectionName = "books", PartitionName = "_default" });

        Assert.Equal(0, dropped.Code);
        Assert.NotEqual(0, refused.Code);
        Assert.Equal([1L, 2L], _server.Rows("default", "books").Select(r => (long)r.PrimaryKey).Order());
    }

    [Fact]
    public async Task Databases_scope_collections_and_default_always_exists()
    {
        await Call(_client.CreateDatabaseAsync, new Rpc.CreateDatabaseRequest { DbName = "sales" });
        await Call(_client.CreateCollectionAsync, new Rpc.CreateCollectionRequest { CollectionName = "books", Schema = Schema("books").ToByteString() }, db: "sales");

        var inSales = await Call(_client.HasCollectionAsync, new Rpc.HasCollectionRequest { CollectionName = "books" }, db: "sales");
        var inDefault = await Call(_client.HasCollectionAsync, new Rpc.HasCollectionRequest { CollectionName = "books" });
        var duplicate = await Call(_client.CreateDatabaseAsync, new Rpc.CreateDatabaseRequest { DbName = "sales" });
        var notEmpty = await Call(_client.DropDatabaseAsync, new Rpc.DropDatabaseRequest { DbName = "sales" });

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

        await Call(_client.ListDatabasesAsync, new Rpc.ListDatabasesRequest());

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"answered after {watch.Elapsed}");
    }
}
