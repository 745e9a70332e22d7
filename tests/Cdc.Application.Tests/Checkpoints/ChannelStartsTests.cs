using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Application.Tasks;
using Cdc.Domain.Changes;
using Cdc.Domain.Tasks;
using Cdc.Testing;

namespace Cdc.Application.Tests.Checkpoints;

public sealed class ChannelStartsTests
{
    private const string Replicate = "by-dev-replicate-msg";
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static TaskRunContext Context(CollectionSelection? selection = null, string? rpcPosition = null, params ChannelPosition[] checkpoints) =>
        new("t1", new TaskDefinition(new MilvusTarget("http://t:19530", 5), selection ?? new CollectionSelection([new CollectionInfo("*")], null),
            rpcPosition is null ? null : new RpcChannelInfo(null, rpcPosition)), checkpoints);

    private static TaskRunContext Starting(ReplicationStart start) =>
        new("t1", new TaskDefinition(new MilvusTarget("http://t:19530", 5), new CollectionSelection([new CollectionInfo("*")], null), Start: start), []);

    private static InsertChange Insert(string collection, string shard, HybridTimestamp ts) =>
        new(new ChangeOrigin("dml_0", new KafkaOffset(1), shard, ts, 1, 1, false, ""), default, "", collection, "_default", 1, 1, 1, 1, shard, 1, ts, ts, []);

    private static ChannelPosition Checkpoint(string channel, byte id, ulong ts) => new(channel, Convert.ToBase64String([id]), ts, Now);

    private static TargetCollection Target(long id, string vchannel) =>
        new(id, "c", "default", 1, [vchannel], [vchannel[..vchannel.LastIndexOf('_')]], HybridTimestamp.Zero, ReadOnlyMemory<byte>.Empty);

    [Fact]
    public void A_checkpoint_is_where_a_channel_starts_exclusive_with_its_tick()
    {
        var starts = new ChannelStarts(Context(null, null, Checkpoint("dml_0", 7, 42), Checkpoint(Replicate, 9, 43)), Replicate, null);

        var dml = starts.DmlChannel("dml_0", TestRoutes.Table());
        var after = Assert.IsType<SourceChannelStart.AfterPosition>(dml.Start);
        Assert.Equal([(byte)7], after.Position.MessageId.ToArray());
        Assert.Equal(new HybridTimestamp(42), dml.LastTick);
        Assert.Equal([(byte)9], Assert.IsType<SourceChannelStart.AfterPosition>(starts.ReplicateChannel().Start).Position.MessageId.ToArray());
        Assert.IsType<SourceChannelStart.LatestStart>(starts.DmlChannel("dml_1", TestRoutes.Table()).Start);
    }

    [Fact]
    public void Without_a_checkpoint_the_replicate_channel_starts_after_the_requested_position()
    {
        var codec = new FixedPositions(new byte[] { 1, 2, 3 });
        var requested = new ChannelStarts(Context(rpcPosition: "AAEC"), Replicate, codec).ReplicateChannel();
        Assert.Equal([(byte)1, 2, 3], Assert.IsType<SourceChannelStart.AfterPosition>(requested.Start).Position.MessageId.ToArray());

        var halted = Assert.Throws<ReplicationHalted>(() => new ChannelStarts(Context(rpcPosition: "AAEC"), Replicate, null).ReplicateChannel());
        Assert.StartsWith(ReplicationHalted.Prefix, halted.Reason);
    }

    [Fact]
    public void Use_start_position_starts_a_channel_at_its_earliest_created_collections_start()
    {
        var selection = new CollectionSelection(null, new Dictionary<string, IReadOnlyList<CollectionInfo>>
        {
            ["default"] = [new CollectionInfo("old", UseStartPosition: true), new CollectionInfo("new", UseStartPosition: true), new CollectionInfo("*")],
        });
        var old = TestRoutes.Source(1, "old", ["dml_0_1v0"]) with
        {
            CreatedTimestamp = new HybridTimestamp(100), StartPositions = new Dictionary<string, ReadOnlyMemory<byte>> { ["dml_0"] = new byte[] { 10 } },
        };
        var @new = TestRoutes.Source(2, "new", ["dml_0_2v0"]) with
        {
            CreatedTimestamp = new HybridTimestamp(200), StartPositions = new Dictionary<string, ReadOnlyMemory<byte>> { ["dml_0"] = new byte[] { 20 } },
        };
        var routes = TestRoutes.Table(TestRoutes.Route(@new, Target(902, "t_0_902v0")), TestRoutes.Route(old, Target(901, "t_0_901v0")));

        var start = new ChannelStarts(Context(selection), Replicate, null).DmlChannel("dml_0", routes);

        Assert.Equal([(byte)10], Assert.IsType<SourceChannelStart.AfterPosition>(start.Start).Position.MessageId.ToArray());
        // without the flag the channel starts at the latest message
        Assert.IsType<SourceChannelStart.LatestStart>(new ChannelStarts(Context(), Replicate, null).DmlChannel("dml_0", routes).Start);
    }

    [Fact]
    public void A_checkpoint_that_is_not_base64_halts_the_run_naming_the_channel()
    {
        var context = Context(null, null, new ChannelPosition("dml_0", "not base64!", 1, Now));
        var halted = Assert.Throws<ReplicationHalted>(() => new ChannelStarts(context, Replicate, null).DmlChannel("dml_0", TestRoutes.Table()));
        Assert.Contains("the checkpoint of channel dml_0 is not base64", halted.Reason);
    }

    private sealed class FixedPositions(byte[] id) : ISourcePositionCodec
    {
        public MsgPositionToken Decode(string base64) => new("", id, 0);
    }

    [Fact]
    public void Requested_positions_start_a_shared_channel_at_the_earliest_and_each_collection_after_its_own()
    {
        var selection = new CollectionSelection([
            new CollectionInfo("late", new Dictionary<string, string> { ["dml_0_1v0"] = "late" }),
            new CollectionInfo("early", new Dictionary<string, string> { ["dml_0_2v0"] = "early" }),
        ], null);
        var codec = new NamedPositions(new() { ["late"] = new("dml_0", [30], 300), ["early"] = new("dml_0", [20], 200) });
        var routes = TestRoutes.Table(
            TestRoutes.Route(TestRoutes.Source(1, "late", ["dml_0_1v0"]), Target(901, "t_0_901v0")),
            TestRoutes.Route(TestRoutes.Source(2, "early", ["dml_0_2v0"]), Target(902, "t_0_902v0")));
        var starts = new ChannelStarts(Context(selection), Replicate, codec);

        Assert.Equal([(byte)20], Assert.IsType<SourceChannelStart.AfterPosition>(starts.DmlChannel("dml_0", routes).Start).Position.MessageId.ToArray());
        Assert.True(starts.IsBeforeStart(Insert("late", "dml_0_1v0", new HybridTimestamp(250))));
        Assert.True(starts.IsBeforeStart(Insert("late", "dml_0_1v0", new HybridTimestamp(300))));
        Assert.False(starts.IsBeforeStart(Insert("late", "dml_0_1v0", new HybridTimestamp(301))));
        Assert.False(starts.IsBeforeStart(Insert("early", "dml_0_2v0", new HybridTimestamp(250))));
        Assert.IsType<SourceChannelStart.LatestStart>(starts.DmlChannel("dml_1", routes).Start);
    }

    [Fact]
    public void A_position_that_cannot_be_decoded_halts_the_run_naming_the_collection_and_shard()
    {
        var selection = new CollectionSelection([new CollectionInfo("c", new Dictionary<string, string> { ["dml_0_1v0"] = "bad" })], null);
        var halted = Assert.Throws<ReplicationHalted>(() => new ChannelStarts(Context(selection), Replicate, new NamedPositions([])));
        Assert.Contains("the position of c on dml_0_1v0", halted.Reason);
    }

    [Fact]
    public void Start_from_earliest_or_a_time_starts_channels_without_a_checkpoint_there()
    {
        var earliest = new ChannelStarts(Starting(ReplicationStart.Earliest), Replicate, null);
        Assert.IsType<SourceChannelStart.EarliestStart>(earliest.ReplicateChannel().Start);
        Assert.IsType<SourceChannelStart.EarliestStart>(earliest.DmlChannel("dml_0", TestRoutes.Table()).Start);
        Assert.False(earliest.IsBeforeStart(Insert("c", "dml_0_1v0", new HybridTimestamp(1))));

        var time = DateTimeOffset.Parse("2026-12-04T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var at = new ChannelStarts(Starting(ReplicationStart.At(time)), Replicate, null);
        Assert.Equal(time, Assert.IsType<SourceChannelStart.AtTimeStart>(at.DmlChannel("dml_0", TestRoutes.Table()).Start).Time);
        Assert.True(at.IsBeforeStart(Insert("c", "dml_0_1v0", HybridTimestamp.FromTime(time.AddMilliseconds(-1), 5))));
        Assert.False(at.IsBeforeStart(Insert("c", "dml_0_1v0", HybridTimestamp.FromTime(time))));
        Assert.False(at.IsBeforeStart(new TimeTickChange(new ChangeOrigin("dml_0", new KafkaOffset(1), null, HybridTimestamp.FromTime(time.AddSeconds(-1)), 1, 1, false, ""), default)));
    }

    private sealed class NamedPositions(Dictionary<string, MsgPositionToken> positions) : ISourcePositionCodec
    {
        public MsgPositionToken Decode(string base64) => positions.TryGetValue(base64, out var p) ? p : throw new FormatException("not a MsgPosition");
    }
}
