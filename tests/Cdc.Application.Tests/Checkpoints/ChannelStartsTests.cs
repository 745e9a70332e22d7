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
}
