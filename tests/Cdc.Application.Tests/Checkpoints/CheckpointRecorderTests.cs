using Cdc.Application.EventStore;
using Cdc.Application.Replication.Checkpoints;
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

    private async Task<IReadOnlyList<string>> StoredPositionsAsync() =>
        (await _h.Store.FetchStreamAsync(StreamTypes.ChannelCheckpointStream("t1", Channel), default))
        .Events.Select(e => e.Data).OfType<ChannelCheckpointed>().Select(c => c.Position).ToList();

    [Fact]
    public async Task Positions_are_noted_in_memory_and_each_flush_writes_the_latest_one_per_channel()
    {
        var recorder = Recorder();
        await recorder.AcknowledgeAsync(Channel, "p1", 1, default);
        await recorder.AcknowledgeAsync(Channel, "p2", 2, default);
        await recorder.AcknowledgeAsync("by-dev-rootcoord-dml_1", "q1", 1, default);
        Assert.Empty(await StoredPositionsAsync()); // acknowledging never waits on the event store

        await recorder.FlushAsync(default); // the run's flush loop, once per interval
        Assert.Equal(["p2"], await StoredPositionsAsync());

        await recorder.AcknowledgeAsync(Channel, "p3", 3, default);
        await recorder.AcknowledgeAsync(Channel, "p4", 4, default);
        await recorder.FlushAsync(default);
        Assert.Equal(["p2", "p4"], await StoredPositionsAsync());
        Assert.Equal(["by-dev-rootcoord-dml_0", "by-dev-rootcoord-dml_1"],
            (await _h.Views.GetAsync("t1", default))!.Positions.Select(p => p.Channel).Order(StringComparer.Ordinal));
        Assert.Equal("p4", (await _h.Views.GetAsync("t1", default))!.Positions.Single(p => p.Channel == Channel).Position);
        Assert.Equal(3, recorder.Written);
    }

    [Fact]
    public async Task A_position_that_did_not_move_is_not_written_again()
    {
        var recorder = Recorder(new CheckpointOptions(TimeSpan.Zero));
        await recorder.AcknowledgeAsync(Channel, "p1", 1, default);
        await recorder.FlushAsync(default);
        await recorder.AcknowledgeAsync(Channel, "p1", 1, default);
        await recorder.FlushAsync(default);
        Assert.Equal(["p1"], await StoredPositionsAsync());

        // a new recorder (after a restart) knows the last written position from the stream
        var restarted = Recorder(new CheckpointOptions(TimeSpan.Zero));
        await restarted.AcknowledgeAsync(Channel, "p1", 1, default);
        await restarted.FlushAsync(default);
        await restarted.AcknowledgeAsync(Channel, "p2", 2, default);
        await restarted.FlushAsync(default);
        Assert.Equal(["p1", "p2"], await StoredPositionsAsync());
    }

    [Fact]
    public async Task A_flush_that_fails_keeps_the_position_for_the_next_one()
    {
        var recorder = Recorder();
        await recorder.AcknowledgeAsync(Channel, "p1", 1, default);
        await recorder.FlushAsync(default);
        // Another writer moved the stream (as a second server would without leases): the flush fails, nothing is lost.
        await _h.Store.AppendAsync(new StreamAppend(StreamTypes.ChannelCheckpointStream("t1", Channel), StreamTypes.ChannelCheckpoint, 1,
            [new ChannelCheckpointed("t1", Channel, "x", 9, DateTimeOffset.UtcNow)]), default);
        await recorder.AcknowledgeAsync(Channel, "p2", 2, default);
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
            await recorder.AcknowledgeAsync(Channel, $"p{i}", (ulong)i, default);
            await recorder.FlushAsync(default);
        }

        var stored = await StoredPositionsAsync();
        Assert.InRange(stored.Count, 5, 25);
        Assert.Equal("p400", stored[^1]);
        Assert.Equal(400, (await _h.Store.FetchStreamAsync(StreamTypes.ChannelCheckpointStream("t1", Channel), default)).Version);
        await using var conn = await _h.DataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("select count(*) from cdc.mt_events where type = 'channel_checkpointed'", conn);
        Assert.InRange((long)(await cmd.ExecuteScalarAsync())!, 5, 25);
        Assert.Equal("p400", Assert.Single((await _h.Views.GetAsync("t1", default))!.Positions).Position);
    }
}
