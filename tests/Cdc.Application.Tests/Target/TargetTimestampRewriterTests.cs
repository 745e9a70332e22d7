using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Testing;
using static Cdc.Application.Tests.TestChanges;

namespace Cdc.Application.Tests.Target;

public sealed class TargetTimestampRewriterTests
{
    private const string Target = "target-dml_0";

    private readonly ManualTimeProvider _time = new();
    private readonly TextRewriter _rewriter = new();

    private TargetTimestampRewriter NewRewriter() => new(Target, _rewriter, new TextControlMessages(), _time);

    private static ChangePack Pack(HybridTimestamp begin, HybridTimestamp end, long startOffset, long endOffset, params SourceChange[] changes)
    {
        var encoder = new OffsetEncoder();
        return new ChangePack(Channel, begin, end, changes,
            new(Channel, encoder.Encode(new KafkaOffset(startOffset))), new(Channel, encoder.Encode(new KafkaOffset(endOffset))));
    }

    private static string[] Texts(PreparedTargetPack prepared) => [.. prepared.Request.Messages.Select(Text)];

    [Fact]
    public void The_first_pack_gets_a_leading_and_a_trailing_tick_and_keeps_its_timestamps()
    {
        var rewriter = NewRewriter();

        var prepared = rewriter.Prepare(Pack(Ts(0), Ts(3), 5, 7, Insert(5, Ts(1)), Delete(6, Ts(2))), TargetIds)!;

        Assert.Equal([$"tick:{Ts(0).Value}", "insert@5|900|-", "delete@6|900|-", $"tick:{Ts(3).Value}"], Texts(prepared));
        Assert.Equal(Target, prepared.Request.ChannelName);
        Assert.Equal(Ts(0), prepared.Request.BeginTs);
        Assert.Equal(Ts(3), prepared.Request.EndTs);
        Assert.False(prepared.TimestampsShifted);
        Assert.False(prepared.IsTimeTickOnly);
        Assert.Equal(7, Offset(prepared.Checkpoint));

        var start = Assert.Single(prepared.Request.StartPositions);
        var end = Assert.Single(prepared.Request.EndPositions);
        Assert.Equal(Target, start.ChannelName);
        Assert.Equal(Target, end.ChannelName);
        Assert.Equal(5L, BitConverter.ToInt64(start.MsgId));
        Assert.Equal(7L, BitConverter.ToInt64(end.MsgId));
        Assert.Equal(Ts(0), start.Timestamp);
        Assert.Equal(Ts(3), end.Timestamp);
    }

    [Fact]
    public void A_first_pack_that_begins_at_its_first_change_gets_its_leading_tick_just_before_that_change()
    {
        // A channel read from its start has no earlier tick: the pack begins at its first change's timestamp.
        var prepared = NewRewriter().Prepare(Pack(Ts(1), Ts(3), 5, 7, Insert(5, Ts(1)), Delete(6, Ts(2))), TargetIds)!;

        var leading = Ts(1).Value - 1;
        Assert.Equal([$"tick:{leading}", "insert@5|900|-", "delete@6|900|-", $"tick:{Ts(3).Value}"], Texts(prepared));
        Assert.Equal(leading, prepared.Request.BeginTs.Value);
    }

    [Fact]
    public void State_moves_only_when_acknowledged()
    {
        var rewriter = NewRewriter();
        var pack = Pack(Ts(1), Ts(3), 5, 7, Insert(5, Ts(1)));

        var first = rewriter.Prepare(pack, TargetIds)!;
        var again = rewriter.Prepare(pack, TargetIds)!;

        Assert.Equal(Texts(first), Texts(again));
        Assert.False(rewriter.HasSent);

        rewriter.Acknowledge(again);
        Assert.True(rewriter.HasSent);
        Assert.Equal(Ts(3), rewriter.MaxSent);
    }

    [Fact]
    public void Later_packs_above_the_maximum_keep_their_timestamps_and_get_only_a_trailing_tick()
    {
        var rewriter = NewRewriter();
        rewriter.Acknowledge(rewriter.Prepare(Pack(Ts(1), Ts(3), 1, 2, Insert(1, Ts(1))), TargetIds)!);

        var prepared = rewriter.Prepare(Pack(Ts(3), Ts(6), 3, 5, Insert(3, Ts(4)), Insert(4, Ts(5))), TargetIds)!;

        Assert.Equal(["insert@3|900|-", "insert@4|900|-", $"tick:{Ts(6).Value}"], Texts(prepared));
        Assert.Equal(Ts(6), prepared.Request.EndTs);
        Assert.False(prepared.TimestampsShifted);
    }

    [Fact]
    public void Changes_not_above_the_maximum_are_shifted_and_equal_timestamps_stay_equal()
    {
        var rewriter = NewRewriter();
        rewriter.Acknowledge(rewriter.Prepare(Pack(Ts(10), Ts(10), 1, 1), TargetIds)!);
        var max = Ts(10).Value;

        // A second source pchannel sharing the target channel is behind: its data is at ts 4..5.
        var prepared = rewriter.Prepare(
            Pack(Ts(3), Ts(6), 3, 6, Delete(3, Ts(4)), Insert(4, Ts(4)), Insert(5, Ts(5))), TargetIds)!;

        Assert.True(prepared.TimestampsShifted);
        Assert.Equal(
            [$"delete@3|900|{max + 1}", $"insert@4|900|{max + 1}", $"insert@5|900|{max + 2}", $"tick:{max + 2}"],
            Texts(prepared));
        Assert.Equal(max + 1, prepared.Request.BeginTs.Value);
        Assert.Equal(max + 2, prepared.Request.EndTs.Value);
        Assert.All(_rewriter.Calls.Skip(0), c => Assert.Equal(900, c.Rewrite.TargetCollectionId));

        rewriter.Acknowledge(prepared);
        Assert.Equal(max + 2, rewriter.MaxSent.Value);
    }

    [Fact]
    public void A_shifted_pack_keeps_its_end_tick_when_that_is_higher()
    {
        var rewriter = NewRewriter();
        rewriter.Acknowledge(rewriter.Prepare(Pack(Ts(10), Ts(10), 1, 1), TargetIds)!);

        var prepared = rewriter.Prepare(Pack(Ts(9), Ts(20), 2, 3, Insert(2, Ts(10))), TargetIds)!;

        Assert.Equal(Ts(10).Value + 1, prepared.Request.BeginTs.Value);
        Assert.Equal(Ts(20), prepared.Request.EndTs);
        Assert.Equal([$"insert@2|900|{Ts(10).Value + 1}", $"tick:{Ts(20).Value}"], Texts(prepared));
    }

    [Fact]
    public void Tick_only_packs_are_sent_at_most_once_per_interval()
    {
        var rewriter = NewRewriter();
        var first = rewriter.Prepare(Pack(Ts(1), Ts(1), 1, 1), TargetIds)!;
        Assert.True(first.IsTimeTickOnly);
        Assert.Equal([$"tick:{Ts(1).Value}", $"tick:{Ts(1).Value}"], Texts(first));
        rewriter.Acknowledge(first);

        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Null(rewriter.Prepare(Pack(Ts(1), Ts(2), 2, 2), TargetIds));

        _time.Advance(TimeSpan.FromMilliseconds(300));
        var due = rewriter.Prepare(Pack(Ts(2), Ts(3), 3, 3), TargetIds)!;
        Assert.Equal([$"tick:{Ts(3).Value}"], Texts(due));
        rewriter.Acknowledge(due);

        // Data packs are never throttled, and they restart the interval.
        _time.Advance(TimeSpan.FromMilliseconds(600));
        rewriter.Acknowledge(rewriter.Prepare(Pack(Ts(3), Ts(4), 4, 5, Insert(4, Ts(4))), TargetIds)!);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Null(rewriter.Prepare(Pack(Ts(4), Ts(5), 6, 6), TargetIds));
    }

    [Fact]
    public void A_tick_only_pack_not_above_the_maximum_is_not_sent()
    {
        var rewriter = NewRewriter();
        rewriter.Acknowledge(rewriter.Prepare(Pack(Ts(1), Ts(10), 1, 2, Insert(1, Ts(5))), TargetIds)!);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Null(rewriter.Prepare(Pack(Ts(3), Ts(10), 3, 3), TargetIds));
        Assert.NotNull(rewriter.Prepare(Pack(Ts(3), Ts(11), 3, 3), TargetIds));
    }

    [Fact]
    public void Acknowledging_a_pack_of_another_channel_is_refused()
    {
        var rewriter = NewRewriter();
        var other = new TargetTimestampRewriter("target-dml_1", _rewriter, new TextControlMessages(), _time);
        var prepared = other.Prepare(Pack(Ts(1), Ts(1), 1, 1), TargetIds)!;

        Assert.Throws<ArgumentException>(() => rewriter.Acknowledge(prepared));
    }

    [Fact]
    public void Changes_go_ahead_of_their_tick_only_after_the_first_pack_and_while_no_shift_is_in_effect()
    {
        var rewriter = NewRewriter();
        var ahead = Pack(Ts(10), Ts(11), 4, 4, Insert(4, Ts(11)));
        Assert.False(rewriter.AcceptsAhead(Ts(10))); // the channel has not begun with the CDC's first tick yet
        Assert.Throws<InvalidOperationException>(() => rewriter.PrepareAhead(ahead, TargetIds));

        rewriter.Acknowledge(rewriter.Prepare(Pack(Ts(1), Ts(10), 1, 3, Insert(1, Ts(5))), TargetIds)!);
        Assert.True(rewriter.AcceptsAhead(Ts(10)));
        Assert.False(rewriter.AcceptsAhead(Ts(9))); // something above the span's tick was sent: its packs shift

        var prepared = rewriter.PrepareAhead(ahead, TargetIds);
        Assert.Equal(["insert@4|900|-"], Texts(prepared)); // source timestamps, no tick
        Assert.Equal(Ts(11), prepared.Request.BeginTs);
        Assert.Equal(Ts(11), prepared.Request.EndTs);
        Assert.Equal(4L, BitConverter.ToInt64(Assert.Single(prepared.Request.StartPositions).MsgId));
        rewriter.Acknowledge(prepared);
        Assert.Equal(Ts(10), rewriter.MaxSent); // the closing pack decides the channel's time, not the changes ahead

        // A change not above the span's tick never goes ahead.
        Assert.Throws<InvalidOperationException>(() => rewriter.PrepareAhead(Pack(Ts(10), Ts(10), 5, 5, Insert(5, Ts(10))), TargetIds));
    }

    [Fact]
    public void The_tick_that_closes_changes_sent_ahead_is_sent_at_once_within_the_interval()
    {
        var rewriter = NewRewriter();
        rewriter.Acknowledge(rewriter.Prepare(Pack(Ts(1), Ts(10), 1, 2, Insert(1, Ts(5))), TargetIds)!);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.Null(rewriter.Prepare(Pack(Ts(10), Ts(20), 3, 3), TargetIds));
        var closing = rewriter.Prepare(Pack(Ts(10), Ts(20), 3, 4) with { ClosesSentAhead = true }, TargetIds)!;

        Assert.Equal([$"tick:{Ts(20).Value}"], Texts(closing));
        Assert.Equal(4, Offset(closing.Checkpoint));
    }
}
