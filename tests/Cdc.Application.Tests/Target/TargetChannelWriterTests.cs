using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Testing;
using static Cdc.Application.Tests.TestChanges;

namespace Cdc.Application.Tests.Target;

public sealed class TargetChannelWriterTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly RecordingMilvusTarget _target = new();
    private readonly TimeTickPacker _packer = new(Channel, _ => true, new OffsetEncoder());

    private TargetChannelWriter NewWriter() =>
        new(_target, new TargetTimestampRewriter("target-dml_0", new TextRewriter(), new TextControlMessages(), _time), Routes());

    [Fact]
    public async Task Packs_are_sent_with_target_ids_and_a_closing_tick()
    {
        using var writer = NewWriter();
        _packer.Add(Insert(1, Ts(1)));
        var pack = _packer.Add(Tick(2, Ts(2)))!;

        Assert.True(await writer.WriteAsync(pack, CancellationToken.None));

        var sent = Assert.Single(_target.Packs);
        Assert.Equal("target-dml_0", sent.ChannelName);
        Assert.Equal(3, sent.Messages.Count);
        Assert.Equal(Ts(2), writer.MaxSent);
    }

    [Fact]
    public async Task A_tick_inside_the_interval_is_not_sent()
    {
        using var writer = NewWriter();
        await writer.WriteAsync(_packer.Add(Tick(1, Ts(1)))!, CancellationToken.None);

        Assert.False(await writer.WriteAsync(_packer.Add(Tick(2, Ts(2)))!, CancellationToken.None));
        Assert.Single(_target.Packs);
    }

    [Fact]
    public async Task A_pack_whose_call_failed_is_retried_above_what_that_call_carried()
    {
        using var writer = NewWriter();
        _packer.Add(Insert(1, Ts(1)));
        var pack = _packer.Add(Tick(2, Ts(2)))!;
        _target.FailNext = 1;

        await Assert.ThrowsAsync<MilvusTargetException>(() => writer.WriteAsync(pack, CancellationToken.None));
        Assert.Equal(Ts(2), writer.HighestSent);

        // The target may have taken the failed call (its tick at Ts(2)): the retry's row and tick come after it.
        Assert.True(await writer.WriteAsync(pack, CancellationToken.None));
        var sent = Assert.Single(_target.Packs);
        var above = Ts(2).Value + 1;
        Assert.Equal([$"insert@1|900|{above}", $"tick:{above}"], sent.Messages.Select(Text));
        Assert.Equal(above, writer.MaxSent.Value);
    }

    [Fact]
    public async Task The_first_pack_on_a_channel_begins_with_a_tick_just_before_its_first_row()
    {
        using var writer = NewWriter();
        _packer.Add(Insert(1, Ts(1)));

        Assert.True(await writer.WriteAsync(_packer.Add(Tick(2, Ts(2)))!, CancellationToken.None));

        Assert.Equal([$"tick:{Ts(1).Value - 1}", "insert@1|900|-", $"tick:{Ts(2).Value}"], Assert.Single(_target.Packs).Messages.Select(Text));
    }
}
