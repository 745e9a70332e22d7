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
    public async Task A_refused_pack_leaves_the_channel_state_so_a_retry_sends_the_same_request()
    {
        using var writer = NewWriter();
        _packer.Add(Insert(1, Ts(1)));
        var pack = _packer.Add(Tick(2, Ts(2)))!;
        _target.FailNext = 1;

        await Assert.ThrowsAsync<MilvusTargetException>(() => writer.WriteAsync(pack, CancellationToken.None));
        Assert.Equal(HybridTimestamp.Zero, writer.MaxSent);

        Assert.True(await writer.WriteAsync(pack, CancellationToken.None));
        var sent = Assert.Single(_target.Packs);
        Assert.Equal($"tick:{Ts(1).Value - 1}", Text(sent.Messages[0])); // the channel's first tick, just before its first row
    }
}
