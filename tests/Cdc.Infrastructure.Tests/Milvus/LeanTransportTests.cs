using System.Buffers;
using Cdc.Application.Replication.Ports;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus;
using Cdc.Infrastructure.Milvus.Grpc;
using Cdc.Testing.FakeMilvus;
using Google.Protobuf;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Milvus;

/// <summary>
/// The fake target's lean h2c transport (<see cref="FakeMilvusOptions.LeanTransport"/>) through the real client, side
/// by side with Kestrel: large concurrent inserts (many DATA frames and window updates), errors and metadata must come
/// out the same. The whole client and server suites also run on it (LeanTransportMilvusTargetClientTests,
/// LeanTransportFakeMilvusServerTests).
/// </summary>
public sealed class LeanTransportTests
{
    private const int Dimension = 768;
    private const int RowsPerInsert = 1000;
    private const int Shards = 16;

    private static IMilvusTarget Client(FakeMilvusServer server, MilvusClientOptions? options = null) =>
        new MilvusTargetFactory(options ?? new MilvusClientOptions(), TimeProvider.System)
            .Create(new MilvusConnection(server.Uri.ToString(), "", TimeSpan.FromSeconds(5), new MilvusDialConfig()));

    private static TargetCollectionDefinition Vectors(int shards) =>
        new("vectors", Schema("vectors", Dimension).ToByteArray(), shards, TargetConsistencyLevel.Bounded, new Dictionary<string, string>());

    [Fact]
    public async Task Lean_transport_with_a_server_certificate_is_refused()
    {
        using var authority = new TestCertificateAuthority();
        var server = authority.IssueServer("localhost");

        await Assert.ThrowsAsync<ArgumentException>(() =>
            FakeMilvusServer.StartAsync(new FakeMilvusOptions { LeanTransport = true, ServerCertificate = server.Certificate }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_created_collection_is_described_back_with_its_schema_and_shards_in_its_database(bool lean)
    {
        await using var server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { LeanTransport = lean });
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
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task Sixteen_concurrent_3_MB_inserts_all_land(bool lean, bool recordCalls)
    {
        // Without recorded calls the fake reads the messages where they lie in the request body: what it handles must
        // still be what was sent, byte for byte.
        var handled = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        await using var server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions
        {
            LeanTransport = lean,
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
            return new TargetReplicatePack(target.PhysicalChannels[shard], Ts, Ts, [new(insert)], [], []);
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
        await using var server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { LeanTransport = true });
        await using var client = Client(server, new MilvusClientOptions { MaxRetryAttempts = 1 });
        await client.CreateCollectionAsync("default", Vectors(shards: 1), Ts, CancellationToken.None);
        var uri = server.Uri;

        await server.StopListeningAsync();
        var down = await Assert.ThrowsAsync<MilvusTargetException>(() => client.HasCollectionAsync("default", "vectors", CancellationToken.None));
        await server.StartListeningAsync();

        Assert.True(down.IsRetryable);
        Assert.Equal(uri, server.Uri);
        Assert.True(await client.HasCollectionAsync("default", "vectors", CancellationToken.None));
    }

    [Fact]
    public async Task Errors_reach_the_client_as_they_do_through_Kestrel()
    {
        var kestrel = await ErrorsSeenAsync(lean: false);
        var lean = await ErrorsSeenAsync(lean: true);

        Assert.Equal(kestrel, lean);
        Assert.Equal((int)GrpcStatusCode.InvalidArgument, kestrel[0].GrpcStatus);
        Assert.Contains("bad: 50% / é", kestrel[0].Message);
        Assert.Equal(1100, kestrel[1].MilvusCode);
        Assert.Equal((int)GrpcStatusCode.Unimplemented, kestrel[2].GrpcStatus);
    }

    /// <summary>A gRPC status error, a Milvus status error and an unknown method, as the client reports them.</summary>
    private static async Task<(int? GrpcStatus, int? MilvusCode, bool Retryable, string Message)[]> ErrorsSeenAsync(bool lean)
    {
        await using var server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { LeanTransport = lean });
        await using var client = Client(server, new MilvusClientOptions { MaxRetryAttempts = 1 });
        server.FailNext(1, GrpcStatusCode.InvalidArgument, "ListDatabases", "bad: 50% / é");
        server.FailNextWithStatus(1, 1100, "invalid parameter", method: "HasCollection");

        var grpc = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));
        var status = await Assert.ThrowsAsync<MilvusTargetException>(() => client.HasCollectionAsync("default", "x", CancellationToken.None));
        using var channel = new GrpcUnaryChannel(new SocketsHttpHandler(), server.Uri, TimeSpan.FromSeconds(5), TimeProvider.System);
        var unknown = await Assert.ThrowsAsync<GrpcCallException>(() => channel.CallAsync(
            "/milvus.proto.milvus.MilvusService/Search", new Cdc.Infrastructure.Milvus.Protos.Rpc.FlushRequest(),
            Cdc.Infrastructure.Milvus.Protos.Common.Status.Parser, [], CancellationToken.None));

        return
        [
            (grpc.GrpcStatus, grpc.MilvusCode, grpc.IsRetryable, grpc.Message),
            (status.GrpcStatus, status.MilvusCode, status.IsRetryable, status.Message),
            ((int)unknown.Status, null, false, unknown.Message),
        ];
    }
}
