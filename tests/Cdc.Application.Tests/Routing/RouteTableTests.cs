using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.Tasks;
using Cdc.Testing;
using static Cdc.Application.Tests.TestChanges;

namespace Cdc.Application.Tests.Routing;

public sealed class RouteTableTests
{
    private static TargetCollection Target(long id, params string[] vchannels) =>
        new(id, "c", "default", vchannels.Length, vchannels, vchannels.Select(ChannelMapping.ToPhysical).ToList(), HybridTimestamp.Zero, ReadOnlyMemory<byte>.Empty);

    [Fact]
    public void A_routed_collections_changes_are_rewritten_for_its_target_collection_shard_and_partition()
    {
        var routes = Routes();

        var insert = routes.RewriteFor(Insert(1, Ts(1)));
        var delete = routes.RewriteFor(Delete(2, Ts(2)));

        Assert.Equal((900L, "target-dml_0_900v0", (long?)910), (insert.TargetCollectionId, insert.TargetShardName, insert.TargetPartitionId));
        Assert.Equal((900L, (long?)null), (delete.TargetCollectionId, delete.TargetPartitionId)); // a delete from every partition
        Assert.True(routes.CanWrite(Insert(3, Ts(3))));
        Assert.Throws<InvalidOperationException>(() => routes.RewriteFor(Insert(4, Ts(4), collection: 777)));
    }

    [Fact]
    public void Selection_covers_routed_collections_and_selected_ones_not_routed_yet_but_drops_only_of_routed_ones()
    {
        var routes = new RouteTable(new CollectionSelection(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { ["default"] = [new CollectionInfo("c")] }));
        Assert.True(routes.Selects(Insert(1, Ts(1), collection: 5))); // named "c" in the selection, not routed yet
        Assert.False(routes.Selects(DropCollection(2, Ts(2), collection: 5)));
        routes.Add(TestRoutes.Route(TestRoutes.Source(5, "c", [$"{Channel}_5v0"]), Target(900, "target-dml_0_900v0")));
        Assert.True(routes.Selects(DropCollection(3, Ts(3), collection: 5)));
        Assert.False(routes.Selects(Flush(4, Ts(4))));
    }

    [Fact]
    public void A_target_pchannel_is_fed_by_one_source_until_another_collection_routes_a_second_one_to_it()
    {
        var routes = TestRoutes.Table(TestRoutes.Route(TestRoutes.Source(1, "a", ["src_0_1v0"]), Target(900, "tgt_0_900v0")));
        Assert.True(routes.FedByOneSource("tgt_0"));
        Assert.Equal(["tgt_0"], routes.TargetPhysicalChannelsOf("src_0"));

        routes.Add(TestRoutes.Route(TestRoutes.Source(2, "b", ["src_1_2v0"]), Target(901, "tgt_0_901v0")));
        Assert.False(routes.FedByOneSource("tgt_0"));
        Assert.Equal(["src_0", "src_1"], routes.SourcePhysicalChannels);

        routes.Remove(2);
        Assert.True(routes.FedByOneSource("tgt_0"));
        Assert.False(routes.FedByOneSource("tgt_9"));
    }
}
