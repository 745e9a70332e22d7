using Cdc.Application.Replication.Packing;
using Cdc.Domain.Changes;
using static Cdc.Application.Tests.TestChanges;

namespace Cdc.Application.Tests.Packing;

public sealed class TimeTickPackerTests
{
    private static TimeTickPacker Packer(Func<SourceChange, bool>? selects = null) =>
        new(Channel, selects ?? (_ => true), new OffsetEncoder());

    [Fact]
    public void Changes_are_buffered_until_a_time_tick_closes_the_pack()
    {
        var packer = Packer();

        Assert.Null(packer.Add(Insert(5, Ts(1))));
        Assert.Null(packer.Add(Delete(6, Ts(2))));
        Assert.Equal(2, packer.BufferedCount);

        var pack = packer.Add(Tick(7, Ts(3)));

        Assert.NotNull(pack);
        Assert.Equal(Channel, pack.Channel);
        Assert.Equal([5L, 6L], pack.Changes.Select(c => ((KafkaOffset)c.Origin.Id).Offset));
        Assert.Equal(Ts(1), pack.BeginTs);
        Assert.Equal(Ts(3), pack.EndTs);
        Assert.Equal(5, Offset(pack.StartPosition));
        Assert.Equal(7, Offset(pack.EndPosition));
        Assert.Equal(Channel, pack.EndPosition.Channel);
        Assert.False(pack.IsTimeTickOnly);
        Assert.Equal(0, packer.BufferedCount);
        Assert.Equal(Ts(3), packer.LastTick);
    }

    [Fact]
    public void The_next_pack_begins_at_the_previous_tick()
    {
        var packer = Packer();
        packer.Add(Tick(1, Ts(10)));

        packer.Add(Insert(2, Ts(12)));
        var pack = packer.Add(Tick(3, Ts(20)))!;

        Assert.Equal(Ts(10), pack.BeginTs);
        Assert.Equal(Ts(20), pack.EndTs);
        Assert.Equal(2, Offset(pack.StartPosition));
        Assert.Equal(3, Offset(pack.EndPosition));
    }

    [Fact]
    public void A_resumed_packer_begins_its_first_pack_at_the_checkpoint_tick()
    {
        var packer = new TimeTickPacker(Channel, _ => true, new OffsetEncoder(), lastTick: Ts(7));

        packer.Add(Insert(8, Ts(9)));
        var pack = packer.Add(Tick(9, Ts(10)))!;

        Assert.Equal(Ts(7), pack.BeginTs);
        Assert.Equal(Ts(10), pack.EndTs);
    }

    [Fact]
    public void A_tick_alone_is_a_pack_without_changes_starting_and_ending_at_the_tick()
    {
        var packer = Packer();

        var pack = packer.Add(Tick(9, Ts(4)))!;

        Assert.True(pack.IsTimeTickOnly);
        Assert.Empty(pack.Changes);
        Assert.Equal(Ts(4), pack.BeginTs);
        Assert.Equal(Ts(4), pack.EndTs);
        Assert.Equal(9, Offset(pack.StartPosition));
        Assert.Equal(9, Offset(pack.EndPosition));
    }

    [Fact]
    public void Changes_are_ordered_by_timestamp_with_delete_before_insert_on_equal_timestamps()
    {
        var packer = Packer();
        packer.Add(Insert(1, Ts(5)));
        packer.Add(Insert(2, Ts(3)));
        packer.Add(Delete(3, Ts(3)));
        packer.Add(Insert(4, Ts(3)));
        packer.Add(Delete(5, Ts(1)));

        var pack = packer.Add(Tick(6, Ts(6)))!;

        // Equal timestamps keep their read order among the same kind (upsert = delete + insert in 2.4).
        Assert.Equal([5L, 3L, 2L, 4L, 1L], pack.Changes.Select(c => ((KafkaOffset)c.Origin.Id).Offset));
        Assert.Equal(Ts(1), pack.BeginTs);
        Assert.Equal(1, Offset(pack.StartPosition));
    }

    [Fact]
    public void Only_insert_delete_drops_and_import_are_kept_and_the_start_counts_dropped_messages()
    {
        var packer = Packer();
        packer.Add(CreateCollection(1, Ts(1)));
        packer.Add(CreatePartition(2, Ts(1)));
        packer.Add(Flush(3, Ts(1)));
        packer.Add(Insert(4, Ts(2)));
        packer.Add(DropPartition(5, Ts(3)));
        packer.Add(DropCollection(6, Ts(4)));

        var pack = packer.Add(Tick(7, Ts(5)))!;

        Assert.Equal([ChangeKind.Insert, ChangeKind.DropPartition, ChangeKind.DropCollection], pack.Changes.Select(c => c.Kind));
        Assert.Equal(1, Offset(pack.StartPosition));
    }

    [Fact]
    public void The_task_selection_filters_changes_but_the_tick_still_comes_through()
    {
        var packer = Packer(c => c switch
        {
            InsertChange i => i.CollectionId == Collection,
            DeleteChange d => d.CollectionId == Collection,
            _ => false,
        });
        packer.Add(Insert(1, Ts(1), collection: 555));
        packer.Add(Insert(2, Ts(2)));
        packer.Add(Delete(3, Ts(3), collection: 555));

        var pack = packer.Add(Tick(4, Ts(4)))!;
        Assert.Equal([2L], pack.Changes.Select(c => ((KafkaOffset)c.Origin.Id).Offset));

        packer.Add(Insert(5, Ts(5), collection: 555));
        var empty = packer.Add(Tick(6, Ts(6)))!;
        Assert.True(empty.IsTimeTickOnly);
        Assert.Equal(5, Offset(empty.StartPosition));
        Assert.Equal(6, Offset(empty.EndPosition));
    }

    [Fact]
    public void A_tick_below_a_buffered_change_is_raised_to_the_change()
    {
        var packer = Packer();
        packer.Add(Tick(1, Ts(10)));
        packer.Add(Insert(2, Ts(30)));

        var pack = packer.Add(Tick(3, Ts(20)))!;

        Assert.Equal(Ts(10), pack.BeginTs);
        Assert.Equal(Ts(30), pack.EndTs);
        Assert.Equal(Ts(30), packer.LastTick);
    }

    [Fact]
    public void A_skipped_message_can_start_the_pack()
    {
        var packer = Packer();
        packer.Skip(new KafkaOffset(11));
        packer.Add(Insert(12, Ts(1)));

        var pack = packer.Add(Tick(13, Ts(2)))!;

        Assert.Equal(11, Offset(pack.StartPosition));
    }

    [Fact]
    public void A_change_from_another_channel_is_refused()
    {
        var packer = Packer();

        var ex = Assert.Throws<ArgumentException>(() => packer.Add(Insert(1, Ts(1), channel: "by-dev-rootcoord-dml_1")));
        Assert.Contains("by-dev-rootcoord-dml_1", ex.Message);
    }

    [Fact]
    public void Changes_sent_ahead_leave_the_pack_which_says_so_and_a_held_change_holds_the_rest_of_the_span()
    {
        var packer = Packer();
        packer.Add(Tick(1, Ts(10)));

        var first = Insert(2, Ts(11));
        packer.Add(first);
        Assert.True(packer.WaitsAlone(first));
        packer.SentAhead(first);
        Assert.Equal(0, packer.BufferedCount);

        // A change that is not sent ahead (e.g. its partition is not on the target yet) holds the ones after it.
        var held = Delete(3, Ts(12));
        packer.Add(held);
        var after = Insert(4, Ts(13));
        packer.Add(after);
        Assert.False(packer.WaitsAlone(after));
        Assert.Throws<InvalidOperationException>(() => packer.SentAhead(after));

        var pack = packer.Add(Tick(5, Ts(20)))!;
        Assert.True(pack.ClosesSentAhead);
        Assert.Equal([3L, 4L], pack.Changes.Select(c => ((KafkaOffset)c.Origin.Id).Offset));
        Assert.Equal(Ts(10), pack.BeginTs);
        Assert.Equal(2, Offset(pack.StartPosition));

        // The next span starts afresh.
        var next = packer.Add(Tick(6, Ts(30)))!;
        Assert.False(next.ClosesSentAhead);
        Assert.True(next.IsTimeTickOnly);
    }

    [Fact]
    public void A_tick_below_a_change_sent_ahead_is_raised_to_it()
    {
        var packer = Packer();
        packer.Add(Tick(1, Ts(10)));
        var ahead = Insert(2, Ts(25));
        packer.Add(ahead);
        packer.SentAhead(ahead);

        var pack = packer.Add(Tick(3, Ts(20)))!;

        Assert.Equal(Ts(25), pack.EndTs);
        Assert.True(pack.IsTimeTickOnly);
        Assert.True(pack.ClosesSentAhead);
    }
}
