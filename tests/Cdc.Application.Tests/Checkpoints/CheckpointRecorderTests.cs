using Cdc.Application.EventStore;
using System.Text;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Cdc.Domain.Events;
using Cdc.Testing;
using Npgsql;

namespace Cdc.Application.Tests.Checkpoints;

public sealed class CheckpointRecorderTests : IAsyncLifetime
{
    private const string Channel = "by-dev-rootcoord-dml_0";
    private readonly ManualTimeProvider _clock = new();
    private EventStoreHarness _h = null!;

    public async Task InitializeAsync()
    {
        _h = await EventStoreHarness.StartAsync();
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private CheckpointRecorder Recorder(CheckpointOptions? options = null) =>
        new("t1", _h.Store, _clock, options ?? new CheckpointOptions(TimeSpan.FromSeconds(1)));

    /// <summary>Notes a position whose message id bytes are the UTF-8 of <paramref name="name"/>.</summary>
    private static void Acknowledge(CheckpointRecorder recorder, string channel, string name, long tick) =>
        recorder.Acknowledge(new SourcePosition(channel, Encoding.UTF8.GetBytes(name)), new HybridTimestamp((ulong)tick));

    /// <summary>The positions stored in the channel's checkpoint stream, read back as the names they were noted with.</summary>
    private async Task<IReadOnlyList<string>> StoredPositionsAsync() =>
        (await _h.Store.FetchStreamAsync(StreamTypes.ChannelCheckpointStream("t1", Channel), default))
        .Events.Select(e => e.Data).OfType<ChannelCheckpointed>()
        .Select(c => Encoding.UTF8.GetString(SourcePosition.FromCheckpoint(Channel, c.Position).MessageId.Span)).ToList();

    private static string Checkpoint(string name) => new SourcePosition(Channel, Encoding.UTF8.GetBytes(name)).ToCheckpoint();

    [Fact]
    public async Task Positions_are_noted_in_memory_and_each_flush_writes_the_latest_one_per_channel()
    {
        var recorder = Recorder();
        Acknowledge(recorder, Channel, "p1", 1);
        Acknowledge(recorder, Channel, "p2", 2);
        Acknowledge(recorder, "by-dev-rootcoord-dml_1", "q1", 1);
        Assert.Empty(await StoredPositionsAsync()); // acknowledging never waits on the event store

        await recorder.FlushAsync(default); // the run's flush loop, once per interval
        Assert.Equal(["p2"], await StoredPositionsAsync());

        Acknowledge(recorder, Channel, "p3", 3);
        Acknowledge(recorder, Channel, "p4", 4);
        await recorder.FlushAsync(default);
        Assert.Equal(["p2", "p4"], await StoredPositionsAsync());
        Assert.Equal(["by-dev-rootcoord-dml_0", "by-dev-rootcoord-dml_1"],
            (await _h.Views.GetAsync("t1", default))!.Positions.Select(p => p.Channel).Order(StringComparer.Ordinal));
        Assert.Equal(Checkpoint("p4"), (await _h.Views.GetAsync("t1", default))!.Positions.Single(p => p.Channel == Channel).Position);
        Assert.Equal(3, recorder.Written);
    }

    [Fact]
    public async Task A_position_that_did_not_move_is_not_written_again()
    {
        var recorder = Recorder(new CheckpointOptions(TimeSpan.Zero));
        Acknowledge(recorder, Channel, "p1", 1);
        await recorder.FlushAsync(default);
        Acknowledge(recorder, Channel, "p1", 1);
        await recorder.FlushAsync(default);
        Assert.Equal(["p1"], await StoredPositionsAsync());

        // a new recorder (after a restart) knows the last written position from the stream
        var restarted = Recorder(new CheckpointOptions(TimeSpan.Zero));
        Acknowledge(restarted, Channel, "p1", 1);
        await restarted.FlushAsync(default);
        Acknowledge(restarted, Channel, "p2", 2);
        await restarted.FlushAsync(default);
        Assert.Equal(["p1", "p2"], await StoredPositionsAsync());
    }

    [Fact]
    public async Task A_flush_that_fails_keeps_the_position_for_the_next_one()
    {
        var recorder = Recorder();
        Acknowledge(recorder, Channel, "p1", 1);
        await recorder.FlushAsync(default);
        // Another writer moved the stream (as a second server would without leases): the flush fails, nothing is lost.
        await _h.Store.AppendAsync(new StreamAppend(StreamTypes.ChannelCheckpointStream("t1", Channel), StreamTypes.ChannelCheckpoint, 1,
            [new ChannelCheckpointed("t1", Channel, Checkpoint("x"), 9, DateTimeOffset.UtcNow)]), default);
        Acknowledge(recorder, Channel, "p2", 2);
        await Assert.ThrowsAsync<ConcurrencyConflict>(() => recorder.FlushAsync(default));
        await recorder.FlushAsync(default);
        Assert.Equal(["p1", "x", "p2"], await StoredPositionsAsync());
    }

    [Fact]
    public async Task Checkpoint_history_is_trimmed_so_storage_stays_bounded()
    {
        var recorder = Recorder(new CheckpointOptions(TimeSpan.Zero, KeepLast: 5, TrimEvery: 20));
        for (var i = 1; i <= 400; i++)
        {
            Acknowledge(recorder, Channel, $"p{i}", i);
            await recorder.FlushAsync(default);
        }

        var stored = await StoredPositionsAsync();
        Assert.InRange(stored.Count, 5, 25);
        Assert.Equal("p400", stored[^1]);
        Assert.Equal(400, (await _h.Store.FetchStreamAsync(StreamTypes.ChannelCheckpointStream("t1", Channel), default)).Version);
        await using var conn = await _h.DataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("select count(*) from cdc.mt_events where type = 'channel_checkpointed'", conn);
        Assert.InRange((long)(await cmd.ExecuteScalarAsync())!, 5, 25);
        Assert.Equal(Checkpoint("p400"), Assert.Single((await _h.Views.GetAsync("t1", default))!.Positions).Position);
    }
}
