using System.Buffers;
using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Target;
using Cdc.Testing.FakeMilvus;
using Google.Protobuf;
using Grpc.Core;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Target;

/// <summary>
/// The target client and the fake target over real HTTP/2 with payloads of a real size: large concurrent inserts
/// (many DATA frames and window updates), a target that goes away and comes back, errors as the client reports them.
/// </summary>
public sealed class MilvusTargetTransportTests
{
    private const int Dimension = 768;
    private const int RowsPerInsert = 1000;
    private const int Shards = 16;

    // The connection timeout is each call's deadline: generous, since what is checked is what lands, not how fast (on
    // a busy 2-core machine 16 concurrent 3 MB calls took over 5 s).
    private static IMilvusTarget Client(FakeMilvusServer server) =>
        new MilvusTargetFactory()
            .Create(new MilvusConnection(server.Uri.ToString(), "", TimeSpan.FromSeconds(60), new MilvusDialConfig()));

    private static TargetCollectionDefinition Vectors(int shards) =>
        new("vectors", Schema("vectors", Dimension).ToByteArray(), shards, TargetConsistencyLevel.Bounded, new Dictionary<string, string>());

    [Fact]
    public async Task A_created_collection_is_described_back_with_its_schema_and_shards_in_its_database()
    {
        await using var server = await FakeMilvusServer.StartAsync();
        await using var client = Client(server);
        await client.CreateDatabaseAsync("sales", new Dictionary<string, string>(), Ts, CancellationToken.None);
        await client.CreateCollectionAsync("sales", Vectors(shards: 3), Ts, CancellationToken.None);

        var described = await client.DescribeCollectionAsync("sales", "vectors", CancellationToken.None);

        Assert.NotNull(described);
        Assert.Equal(3, described.VirtualChannels.Count);
        var schema = Cdc.Infrastructure.Milvus.Protos.Schema.CollectionSchema.Parser.ParseFrom(described.Schema.Span);
        Assert.Equal(Schema("vectors", Dimension), schema);
        Assert.Equal(server.Collection("sales", "vectors").Id, described.CollectionId);
        Assert.Null(await client.DescribeCollectionAsync("default", "vectors", CancellationToken.None));
        Assert.Equal("sales", server.CallsTo("DescribeCollection")[0].DbName);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sixteen_concurrent_3_MB_inserts_all_land_byte_for_byte(bool recordCalls)
    {
        // Each insert reaches the client as a sequence of three pieces (as a rewritten Kafka record does): what the
        // target handles must still be what was sent, byte for byte, whether or not it keeps the calls.
        var handled = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        await using var server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions
        {
            RecordCalls = recordCalls,
            OnHandled = (call, ok) =>
            {
                if (ok && call.Method == "ReplicateMessage")
                {
                    var request = call.RequestAs<Cdc.Infrastructure.Milvus.Protos.Rpc.ReplicateMessageRequest>();
                    handled[request.ChannelName] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(request.Msgs.Single().Span));
                }
            },
        });
        await using var client = Client(server);
        await client.CreateCollectionAsync("default", Vectors(Shards), Ts, CancellationToken.None);
        var target = (await client.DescribeCollectionAsync("default", "vectors", CancellationToken.None))!;

        var packs = Enumerable.Range(0, Shards).Select(shard =>
        {
            var keys = Enumerable.Range(shard * RowsPerInsert, RowsPerInsert).Select(k => (long)k).ToList();
            var insert = Insert(target.CollectionId, target.VirtualChannels[shard], keys, Dimension, collectionName: "vectors").ToByteArray();
            Assert.True(insert.Length > 3_000_000, $"insert of {insert.Length} bytes");
            var pieces = MemorySegments.ToSequence([insert.AsMemory(0, 100), insert.AsMemory(100, 2_000_000), insert.AsMemory(2_000_100)]);
            return new TargetReplicatePack(target.PhysicalChannels[shard], Ts, Ts, [pieces], [], []);
        }).ToList();
        var positions = await Task.WhenAll(packs.Select(pack => client.ReplicateMessageAsync(pack, CancellationToken.None)));

        var rows = server.Rows("default", "vectors");
        Assert.Equal(Enumerable.Range(0, Shards * RowsPerInsert).Select(k => (long)k), rows.Select(r => (long)r.PrimaryKey).Order());
        Assert.All(positions, p => Assert.Equal(8, Convert.FromBase64String(p).Length));
        Assert.Equal(
            packs.ToDictionary(p => p.ChannelName, p => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(p.Messages[0].ToArray()))).OrderBy(e => e.Key),
            handled.OrderBy(e => e.Key));
        if (recordCalls)
        {
            var requests = server.CallsTo("ReplicateMessage").Select(c => c.RequestAs<Cdc.Infrastructure.Milvus.Protos.Rpc.ReplicateMessageRequest>());
            Assert.All(requests, r => Assert.Equal(packs.Single(p => p.ChannelName == r.ChannelName).Messages[0].ToArray(), r.Msgs.Single().ToByteArray()));
        }
    }

    [Fact]
    public async Task Off_the_network_and_back_on_the_same_port_with_its_state()
    {
        await using var server = await FakeMilvusServer.StartAsync();
        await using var client = Client(server);
        await client.CreateCollectionAsync("default", Vectors(shards: 1), Ts, CancellationToken.None);
        var uri = server.Uri;

        await server.StopListeningAsync();
        var down = await Assert.ThrowsAsync<MilvusTargetException>(() => client.HasCollectionAsync("default", "vectors", CancellationToken.None));
        await server.StartListeningAsync();

        Assert.True(down.IsRetryable);
        Assert.Equal(uri, server.Uri);
        // The client makes one attempt per call; as the task's run does, the caller tries again (the channel reconnects
        // within its 2 s back-off).
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                Assert.True(await client.HasCollectionAsync("default", "vectors", CancellationToken.None));
                break;
            }
            catch (MilvusTargetException ex) when (ex.IsRetryable && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task Errors_reach_the_client_with_their_status_code_and_message()
    {
        await using var server = await FakeMilvusServer.StartAsync();
        await using var client = Client(server);
        server.FailNext(1, StatusCode.InvalidArgument, "ListDatabases", "bad: 50% / é");
        server.FailNextWithStatus(1, 1100, "invalid parameter", method: "HasCollection");

        var grpc = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));
        var status = await Assert.ThrowsAsync<MilvusTargetException>(() => client.HasCollectionAsync("default", "x", CancellationToken.None));

        Assert.Equal(((int?)StatusCode.InvalidArgument, (int?)null, false), (grpc.GrpcStatus, grpc.MilvusCode, grpc.IsRetryable));
        Assert.Equal("ListDatabases", grpc.Operation);
        Assert.Contains("bad: 50% / é", grpc.Message);
        Assert.Equal(((int?)null, (int?)1100, false), (status.GrpcStatus, status.MilvusCode, status.IsRetryable));
        Assert.Equal("invalid parameter", status.Reason);
        Assert.Single(server.CallsTo("ListDatabases"));
        Assert.Single(server.CallsTo("HasCollection"));
    }
}
