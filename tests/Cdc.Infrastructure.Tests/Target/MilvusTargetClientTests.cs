using System.Text;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Target;
using Cdc.Testing.FakeMilvus;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Target;

public sealed class MilvusTargetClientTests : IAsyncLifetime
{
    private static readonly HybridTimestamp SourceTs = HybridTimestamp.FromParts(1_723_104_195_025, 3);

    private FakeMilvusServer _server = null!;
    private IMilvusTarget _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { RequiredToken = "root:Milvus" });
        _client = Client(_server, "root:Milvus");
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static IMilvusTarget Client(FakeMilvusServer server, string token, TimeSpan timeout = default) =>
        new MilvusTargetFactory()
            .Create(new MilvusConnection(server.Uri.ToString(), token, timeout, MilvusDialConfig.None));

    private static TargetCollectionDefinition Books(string name = "books", int shards = 2) =>
        new(name, Schema(name).ToByteArray(), shards, TargetConsistencyLevel.Bounded, new Dictionary<string, string> { ["collection.ttl.seconds"] = "60" });

    [Fact]
    public async Task Calls_carry_base64_token_as_authorization_and_the_connect_timeout_as_grpc_timeout()
    {
        var databases = await _client.ListDatabasesAsync(CancellationToken.None);

        Assert.Contains("default", databases);
        var call = Assert.Single(_server.Calls);
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("root:Milvus")), call.Authorization);
        // The deadline is the connect timeout (5 s by default) from the call's start; what is left of it when the
        // request goes out is sent in milliseconds.
        Assert.InRange(GrpcTimeoutMilliseconds(call), 1, 5000);
        Assert.StartsWith("application/grpc", call.Metadata["content-type"]);
    }

    /// <summary>The grpc-timeout header in milliseconds (an integer and a unit: H, M, S, m, u or n).</summary>
    internal static double GrpcTimeoutMilliseconds(FakeMilvusCall call)
    {
        var timeout = call.Metadata["grpc-timeout"];
        var value = long.Parse(timeout[..^1], System.Globalization.CultureInfo.InvariantCulture);
        return timeout[^1] switch
        {
            'H' => value * 3_600_000.0,
            'M' => value * 60_000.0,
            'S' => value * 1_000.0,
            'm' => value,
            'u' => value / 1_000.0,
            'n' => value / 1_000_000.0,
            _ => throw new FormatException($"grpc-timeout '{timeout}' has no known unit"),
        };
    }

    [Fact]
    public async Task DDL_calls_carry_replicate_info_and_pass_the_database_as_dbname_metadata()
    {
        var ct = CancellationToken.None;
        await _client.CreateDatabaseAsync("sales", new Dictionary<string, string> { ["database.max.collections"] = "10" }, SourceTs, ct);
        await _client.CreateCollectionAsync("sales", Books(), SourceTs, ct);
        await _client.CreatePartitionAsync("sales", "books", "p1", SourceTs, ct);
        await _client.CreateIndexAsync("sales", new TargetIndexDefinition("books", "vec", "vec_idx", new Dictionary<string, string> { ["index_type"] = "HNSW", ["metric_type"] = "L2" }), SourceTs, ct);
        await _client.AlterIndexAsync("sales", "books", "vec_idx", new Dictionary<string, string> { ["mmap.enabled"] = "true" }, [], SourceTs, ct);
        await _client.LoadCollectionAsync("sales", "books", 1, SourceTs, ct);
        await _client.LoadPartitionsAsync("sales", "books", ["p1"], 1, SourceTs, ct);

        var loaded = _server.Collection("sales", "books");
        Assert.True(loaded.IsLoaded);
        Assert.Equal(["p1"], loaded.LoadedPartitions);
        Assert.Contains("p1", loaded.Partitions.Keys);
        Assert.Contains("_default", loaded.Partitions.Keys);
        var index = Assert.Single(loaded.Indexes);
        Assert.Equal(("vec", "HNSW", "true"), (index.FieldName, index.Parameters["index_type"], index.Parameters["mmap.enabled"]));
        Assert.Equal(2, loaded.ShardsNum);
        Assert.Equal((int)ConsistencyLevel.Bounded, loaded.ConsistencyLevel);
        Assert.Equal("60", loaded.Properties["collection.ttl.seconds"]);
        Assert.Equal("10", _server.DatabaseProperties("sales")["database.max.collections"]);

        await _client.ReleasePartitionsAsync("sales", "books", ["p1"], SourceTs, ct);
        await _client.ReleaseCollectionAsync("sales", "books", SourceTs, ct);
        await _client.FlushAsync("sales", "books", SourceTs, ct);
        await _client.DropIndexAsync("sales", "books", "vec", "vec_idx", SourceTs, ct);
        await _client.DropPartitionAsync("sales", "books", "p1", SourceTs, ct);
        Assert.False(_server.Collection("sales", "books").IsLoaded);
        Assert.Empty(_server.Collection("sales", "books").Indexes);
        await _client.DropCollectionAsync("sales", "books", SourceTs, ct);
        await _client.DropDatabaseAsync("sales", SourceTs, ct);

        Assert.DoesNotContain("sales", _server.Databases);
        Assert.Empty(_server.Collections);
        var calls = _server.Calls;
        Assert.Equal(14, calls.Count);
        foreach (var call in calls)
        {
            var request = call.Request;
            var msgBase = (MsgBase)request.Descriptor.FindFieldByNumber(1).Accessor.GetValue(request);
            Assert.True(msgBase.ReplicateInfo.IsReplicate, call.Method);
            Assert.Equal(SourceTs.Value, msgBase.ReplicateInfo.MsgTimestamp);
            var bodyDb = (string)request.Descriptor.FindFieldByNumber(2).Accessor.GetValue(request);
            if (call.Method is "CreateDatabase" or "DropDatabase")
            {
                Assert.Equal("sales", bodyDb);
            }
            else
            {
                Assert.Equal("", bodyDb);
                Assert.Equal("sales", call.DbName);
            }
        }
    }

    [Fact]
    public async Task Describe_reports_target_channels_and_ids()
    {
        await _client.CreateCollectionAsync("default", Books(shards: 2), SourceTs, CancellationToken.None);

        var described = await _client.DescribeCollectionAsync("default", "books", CancellationToken.None);

        Assert.NotNull(described);
        var fake = _server.Collection("default", "books");
        Assert.Equal(fake.Id, described.CollectionId);
        Assert.Equal(2, described.VirtualChannels.Count);
        Assert.All(described.PhysicalChannels, p => Assert.Matches(@"^target-rootcoord-dml_\d+$", p));
        Assert.Equal(described.PhysicalChannels.Select((p, i) => $"{p}_{fake.Id}v{i}"), described.VirtualChannels);
        Assert.Equal("books", Cdc.Infrastructure.Milvus.Protos.Schema.CollectionSchema.Parser.ParseFrom(described.Schema.Span).Name);
        Assert.True(await _client.HasCollectionAsync("default", "books", CancellationToken.None));
        var partitions = await _client.ShowPartitionsAsync("default", "books", CancellationToken.None);
        Assert.Equal("_default", Assert.Single(partitions).Name);
        Assert.Equal(fake.Partitions["_default"], partitions[0].PartitionId);
    }

    [Fact]
    public async Task Unknown_collection_and_database_map_to_typed_not_found_errors()
    {
        Assert.Null(await _client.DescribeCollectionAsync("default", "nope", CancellationToken.None));
        Assert.False(await _client.HasCollectionAsync("default", "nope", CancellationToken.None));

        var collection = await Assert.ThrowsAsync<MilvusTargetException>(() => _client.ShowPartitionsAsync("default", "nope", CancellationToken.None));
        Assert.True(collection.IsCollectionNotFound);
        Assert.False(collection.IsRetryable);
        Assert.Equal("collection not found[collection=nope]", collection.Reason);

        var database = await Assert.ThrowsAsync<MilvusTargetException>(() => _client.HasCollectionAsync("nodb", "books", CancellationToken.None));
        Assert.True(database.IsDatabaseNotFound);
        Assert.Equal(800, database.MilvusCode);
        Assert.Single(_server.CallsTo("ShowPartitions"));
    }

    [Fact]
    public async Task Replicated_insert_and_delete_land_in_the_target_collection()
    {
        await _client.CreateCollectionAsync("default", Books(shards: 1), SourceTs, CancellationToken.None);
        var target = (await _client.DescribeCollectionAsync("default", "books", CancellationToken.None))!;
        var insert = Insert(target.CollectionId, target.VirtualChannels[0], [1, 2, 3]);
        var delete = Delete(target.CollectionId, target.VirtualChannels[0], [2], ts: Ts.Value + 1);
        var timeTick = new Cdc.Infrastructure.Milvus.Protos.Msg.TimeTickMsg { Base = Base(MsgType.TimeTick, Ts.Value + 2) };
        var positions = new[] { new TargetPackPosition(target.PhysicalChannels[0], [1, 0, 0, 0, 0, 0, 0, 0], "g", Ts) };

        var position = await _client.ReplicateMessageAsync(new TargetReplicatePack(
            target.PhysicalChannels[0], Ts, new HybridTimestamp(Ts.Value + 2),
            [new(insert.ToByteArray()), new(delete.ToByteArray()), new(timeTick.ToByteArray())], positions, positions), CancellationToken.None);

        var rows = _server.Rows("default", "books");
        Assert.Equal([1L, 3L], rows.Select(r => (long)r.PrimaryKey).Order());
        Assert.All(rows, r => Assert.Equal(target.CollectionId == 0 ? 0 : _server.Collection("default", "books").Partitions["_default"], r.PartitionId));
        Assert.Equal(8, Convert.FromBase64String(position).Length);
        var request = _server.CallsTo("ReplicateMessage").Single().RequestAs<Rpc.ReplicateMessageRequest>();
        Assert.True(request.Base.ReplicateInfo.IsReplicate);
        Assert.Equal(target.PhysicalChannels[0], request.ChannelName);
        Assert.Equal((Ts.Value, Ts.Value + 2), (request.BeginTs, request.EndTs));
        Assert.Equal(3, request.Msgs.Count);
        Assert.Equal("g", request.EndPositions.Single().MsgGroup);
    }

    [Fact]
    public async Task At_most_four_large_packs_are_sent_at_once_on_a_connection_and_small_ones_are_not_held_back()
    {
        await _client.CreateCollectionAsync("default", Books(shards: 1), SourceTs, CancellationToken.None);
        var target = (await _client.DescribeCollectionAsync("default", "books", CancellationToken.None))!;
        _server.Latency = TimeSpan.FromMilliseconds(300);
        Task<string> Send(int pack, int rows) => _client.ReplicateMessageAsync(new TargetReplicatePack(
            target.PhysicalChannels[0], Ts, Ts,
            [new(Insert(target.CollectionId, target.VirtualChannels[0], [.. Enumerable.Range(pack * rows, rows).Select(k => (long)k)], dim: 16).ToByteArray())],
            [], []), CancellationToken.None);

        // 10 packs of 20,000 rows x 16 floats (about 1.4 MB each) at once: four go, each of the others when one is answered.
        await Task.WhenAll(Enumerable.Range(0, 10).Select(p => Send(p, 20_000)));
        Assert.Equal(MilvusTargetClient.LargeSendsAtOnce, _server.MostCallsAtOnce("ReplicateMessage"));
        Assert.Equal(200_000, _server.Rows("default", "books").Count);

        // Small packs (10 rows) are not counted: all 10 are under way together. Each is answered after 1.5 s, so that
        // none is answered before the last one is sent even on a busy machine (with 300 ms, a fresh-clone run under
        // load saw only 8 under way at once).
        _server.Latency = TimeSpan.FromMilliseconds(1500);
        await Task.WhenAll(Enumerable.Range(100, 10).Select(p => Send(p, 10)));
        Assert.Equal(10, _server.MostCallsAtOnce("ReplicateMessage"));
    }

    [Fact]
    public async Task Normal_instance_denies_replicate_messages_with_1900_and_is_not_retried()
    {
        _server.TtMsgEnabled = true;

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => _client.ReplicateMessageAsync(
            new TargetReplicatePack("target-rootcoord-dml_0", Ts, Ts, [], [], []), CancellationToken.None));

        Assert.Equal(1900, error.MilvusCode);
        Assert.Equal("deny to use the replicate message in the normal instance", error.Reason);
        Assert.False(error.IsRetryable);
        Assert.Single(_server.CallsTo("ReplicateMessage"));
    }

    [Fact]
    public async Task Undecodable_replicate_message_bytes_give_1901()
    {
        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => _client.ReplicateMessageAsync(
            new TargetReplicatePack("target-rootcoord-dml_0", Ts, Ts, [new(new byte[] { 0x0A, 0x7F, 0x01 })], [], []), CancellationToken.None));

        Assert.Equal(1901, error.MilvusCode);
        Assert.Equal("invalid replicate msg bytes", error.Reason);
    }

    [Fact]
    public async Task Wrong_token_is_unauthenticated_and_the_secret_is_never_in_the_error()
    {
        await using var client = Client(_server, "root:s3cret-Passw0rd");

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));

        Assert.Equal(16, error.GrpcStatus);
        Assert.False(error.IsRetryable);
        var everything = error.ToString() + error.InnerException;
        Assert.DoesNotContain("s3cret", everything);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("root:s3cret-Passw0rd")), everything);
        Assert.DoesNotContain("s3cret", new MilvusConnection("http://x:1", "root:s3cret-Passw0rd").ToString());
    }
}
