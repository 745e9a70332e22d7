using Cdc.Application.EventStore;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.Events;
using Cdc.Infrastructure.EventStore;
using Cdc.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using static Cdc.Application.Tests.TestChanges;

namespace Cdc.Application.Tests.Target;

/// <summary>
/// The time a task reserves on a target pchannel, in the real event store: written before anything above it is sent,
/// read by the next run (after a crash, a restart or on another server), which sends only above it.
/// </summary>
public sealed class TargetTimeReservationTests : IAsyncLifetime
{
    private const string Target0 = "target-dml_0";
    private const string Target1 = "target-dml_1";
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(2);

    private readonly ManualTimeProvider _time = new();
    private readonly RecordingMilvusTarget _target = new();
    private readonly TaskRunMonitor _monitor = new TestMonitors().Monitor();
    private EventStoreHarness _h = null!;

    public async Task InitializeAsync()
    {
        _h = await EventStoreHarness.StartAsync();
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    /// <summary>One run's reservations (a new object per run, as each run builds its own).</summary>
    private TargetTimeReservations Run(IEventStore? store = null, TimeSpan? margin = null, CheckpointOptions? history = null) =>
        new("t1", store ?? _h.Store, _time, margin ?? Margin,
            new RetryPolicy(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(20), 3, _monitor, TimeProvider.System, NullLogger.Instance, "t1"),
            history);

    private TargetChannelWriter Writer(TargetTimeReservations run, string channel = Target0) =>
        new(_target, new TargetTimestampRewriter(channel, new TextRewriter(), new TextControlMessages(), _time), Routes(), run.For(channel));

    private static ChangePack Pack(HybridTimestamp begin, HybridTimestamp end, params SourceChange[] changes)
    {
        var encoder = new OffsetEncoder();
        return new ChangePack(Channel, begin, end, changes,
            new(Channel, encoder.Encode(new KafkaOffset(0))), new(Channel, encoder.Encode(new KafkaOffset(changes.Length))));
    }

    private static HybridTimestamp Plus(HybridTimestamp ts, TimeSpan margin) => new(ts.Value + ((ulong)margin.TotalMilliseconds << HybridTimestamp.LogicalBits));

    /// <summary>The reservations stored for a target channel, oldest first.</summary>
    private async Task<List<TargetTimeReserved>> StoredAsync(string channel = Target0) =>
        [.. (await _h.Store.FetchStreamAsync(StreamTypes.TargetTimeStream("t1", channel), default)).Events.Select(e => e.Data).OfType<TargetTimeReserved>()];

    /// <summary>Every timestamp a request carries: its ticks and the rewritten changes' (the source's when not moved).</summary>
    private static IEnumerable<ulong> Stamps(TargetReplicatePack pack) => pack.Messages.Select(Text).Select(text =>
        text.StartsWith("tick:", StringComparison.Ordinal) ? ulong.Parse(text[5..]) : ulong.TryParse(text.Split('|')[2], out var ts) ? ts : 0)
        .Where(ts => ts != 0).Append(pack.BeginTs.Value).Append(pack.EndTs.Value);

    [Fact]
    public async Task Every_send_is_covered_by_a_reservation_stored_before_it_and_one_write_covers_a_margin_of_time()
    {
        var run = Run();
        using var writer = Writer(run);
        var coveredOnArrival = new List<bool>();
        _target.OnArrival = async pack => coveredOnArrival.Add((await StoredAsync()).Last().Timestamp >= pack.EndTs.Value);

        await writer.WriteAsync(Pack(Ts(0), Ts(10), Insert(1, Ts(5))), default);
        await writer.WriteAsync(Pack(Ts(10), Ts(500), Insert(2, Ts(400))), default);
        await writer.WriteAsync(Pack(Ts(500), Ts(2000), Insert(3, Ts(1500))), default);
        await writer.WriteAsync(Pack(Ts(2000), Ts(2500), Insert(4, Ts(2400))), default);

        Assert.Equal([true, true, true, true], coveredOnArrival);
        var stored = await StoredAsync();
        Assert.Equal([Plus(Ts(10), Margin).Value, Plus(Ts(2500), Margin).Value], stored.Select(r => r.Timestamp));
        Assert.Equal([Ts(10).Value, Ts(2500).Value], stored.Select(r => r.Sent));
        Assert.All(stored, r => Assert.Equal(Target0, r.TargetChannel));
        Assert.Equal(2, run.Written);
        // Within the run nothing was moved: the rows keep their source timestamps.
        Assert.All(_target.Packs.SelectMany(p => p.Messages).Select(Text).Where(t => t.StartsWith("insert", StringComparison.Ordinal)), t => Assert.EndsWith("|-", t));
    }

    [Fact]
    public async Task After_a_crash_the_next_run_sends_only_above_the_reservation_replayed_rows_moved_up_and_old_ticks_left_out()
    {
        using (var crashed = Writer(Run()))
        {
            await crashed.WriteAsync(Pack(Ts(0), Ts(10), Insert(1, Ts(5))), default);
            await crashed.WriteAsync(Pack(Ts(10), Ts(20), Insert(2, Ts(15))), default);
            // killed here: no clean stop, the reservation keeps its margin
        }

        var reserved = Plus(Ts(10), Margin);
        Assert.Equal(reserved.Value, (await StoredAsync()).Last().Timestamp);
        var sentBefore = _target.Packs.Count;

        using var next = Writer(Run());
        Assert.False(await next.WriteAsync(Pack(Ts(0), Ts(10)), default)); // a replayed tick at or below the reservation
        Assert.True(await next.WriteAsync(Pack(Ts(10), Ts(20), Insert(2, Ts(15))), default));
        var ahead = new ChangePack(Channel, Ts(20), Ts(25), [Insert(3, Ts(25))], Pack(Ts(0), Ts(0)).StartPosition, Pack(Ts(0), Ts(0)).EndPosition);
        Assert.False(await next.TryWriteAheadAsync(ahead, default)); // the channel's time is above the source's: it waits for its tick
        Assert.True(await next.WriteAsync(Pack(Ts(2100), Ts(2200), Insert(4, Ts(2150))), default));

        var afterRestart = _target.Packs.Skip(sentBefore).ToList();
        Assert.Equal(2, afterRestart.Count);
        Assert.All(afterRestart.SelectMany(Stamps), ts => Assert.True(ts > reserved.Value, $"{ts} is not above the reservation {reserved.Value}"));
        // The replayed row is moved to the first timestamp above the reservation; the channel is not begun again.
        Assert.Equal([$"insert@2|900|{reserved.Value + 1}", $"tick:{reserved.Value + 1}"], afterRestart[0].Messages.Select(Text));
        // Once the source is above the reservation, rows keep their source timestamps.
        Assert.Equal(["insert@4|900|-", $"tick:{Ts(2200).Value}"], afterRestart[1].Messages.Select(Text));
        Assert.True((await StoredAsync()).Last().Timestamp >= Ts(2200).Value);
    }

    [Fact]
    public async Task A_clean_stop_lowers_the_reservation_to_what_was_sent_so_the_next_run_keeps_the_source_timestamps()
    {
        using (var stopped = Writer(Run()))
        {
            await stopped.WriteAsync(Pack(Ts(0), Ts(10), Insert(1, Ts(5))), default);
            await stopped.SettleAsync(default);
        }

        Assert.Equal([Plus(Ts(10), Margin).Value, Ts(10).Value], (await StoredAsync()).Select(r => r.Timestamp));

        using var next = Writer(Run());
        Assert.True(await next.WriteAsync(Pack(Ts(10), Ts(20), Insert(2, Ts(15))), default));
        var sent = _target.Packs[^1];
        Assert.Equal(["insert@2|900|-", $"tick:{Ts(20).Value}"], sent.Messages.Select(Text));
        Assert.Equal(Ts(10).Value + 1, sent.BeginTs.Value);
    }

    [Fact]
    public async Task A_stop_that_sent_nothing_leaves_the_crashed_runs_reservation_as_it_was()
    {
        using (var crashed = Writer(Run()))
        {
            await crashed.WriteAsync(Pack(Ts(0), Ts(10), Insert(1, Ts(5))), default);
        }

        using (var idle = Writer(Run()))
        {
            Assert.False(await idle.WriteAsync(Pack(Ts(0), Ts(10)), default));
            await idle.SettleAsync(default);
        }

        // What the crashed run sent after its last checkpoint is unknown up to its reservation: it stays.
        Assert.Equal([Plus(Ts(10), Margin).Value], (await StoredAsync()).Select(r => r.Timestamp));
    }

    [Fact]
    public async Task While_the_event_store_fails_nothing_is_sent_and_the_task_shows_the_failure()
    {
        var store = new FailingEventStore(_h.Store) { FailingAppends = 3 };
        using var writer = Writer(Run(store));

        Assert.True(await writer.WriteAsync(Pack(Ts(0), Ts(10), Insert(1, Ts(5))), default));
        Assert.Single(_target.Packs);
        Assert.Equal(3, store.Failed);
        Assert.Equal(Plus(Ts(10), Margin).Value, (await StoredAsync()).Single().Timestamp);
        Assert.Contains($"cannot reserve target time on {Target0}: the database is down", _monitor.LastError);

        // Down for good: the next pack above the reservation never goes out, however long the run waits.
        using var stop = new CancellationTokenSource();
        store.FailingAppends = int.MaxValue;
        store.OnFailure = failed => { if (failed >= 8) stop.Cancel(); };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.WriteAsync(Pack(Ts(3000), Ts(3010), Insert(2, Ts(3005))), stop.Token));
        Assert.Single(_target.Packs);
    }

    [Fact]
    public async Task A_drop_gets_one_timestamp_above_every_channel_of_its_collection_and_what_follows_goes_above_it()
    {
        var run = Run();
        using var first = Writer(run);
        using var second = Writer(run, Target1);
        await first.WriteAsync(Pack(Ts(0), Ts(30), Insert(1, Ts(5))), default);
        await second.WriteAsync(Pack(Ts(0), Ts(10)), default);

        var applied = new List<HybridTimestamp>();
        await TargetChannelWriter.StampAsync([second, first], Ts(8), (at, _) => { applied.Add(at); return Task.CompletedTask; }, default);

        var stamp = new HybridTimestamp(Ts(30).Value + 1);
        Assert.Equal([stamp], applied);
        Assert.Equal(stamp, first.MaxSent);
        Assert.Equal(stamp, second.MaxSent);
        Assert.True((await StoredAsync(Target1)).Last().Timestamp >= stamp.Value); // reserved before the drop went out
        Assert.False(await second.WriteAsync(Pack(Ts(10), Ts(20)), default)); // a tick below the drop is not sent

        // A drop above every channel keeps its own timestamp.
        await TargetChannelWriter.StampAsync([first, second], Ts(100), (at, _) => { applied.Add(at); return Task.CompletedTask; }, default);
        Assert.Equal(Ts(100), applied[^1]);
    }

    [Fact]
    public async Task A_trimmed_reservation_stream_stays_short_and_the_next_run_still_reads_the_latest_reservation()
    {
        var history = new CheckpointOptions(TimeSpan.FromSeconds(1), KeepLast: 1, TrimEvery: 4);
        using (var crashed = Writer(Run(margin: TimeSpan.Zero, history: history)))
        {
            for (var i = 1; i <= 10; i++)
                await crashed.WriteAsync(Pack(Ts(i * 10 - 10), Ts(i * 10), Insert(i, Ts(i * 10 - 5))), default);
        }

        var stream = await _h.Store.FetchStreamAsync(StreamTypes.TargetTimeStream("t1", Target0), default);
        Assert.Equal(10, stream.Version);
        Assert.True(stream.Events.Count <= 5, $"{stream.Events.Count} events kept");
        await using (var session = _h.Documents.QuerySession(_h.Options.Tenant))
            Assert.Equal(Ts(100).Value, (await session.LoadAsync<TargetTimeDocument>(StreamTypes.TargetTimeStream("t1", Target0)))!.Timestamp);

        using var next = Writer(Run(history: history));
        await next.WriteAsync(Pack(Ts(90), Ts(100), Insert(10, Ts(95))), default);
        Assert.All(Stamps(_target.Packs[^1]), ts => Assert.True(ts > Ts(100).Value));
    }

    /// <summary>The event store with appends that fail (a PostgreSQL outage) while <see cref="FailingAppends"/> lasts.</summary>
    private sealed class FailingEventStore(IEventStore inner) : IEventStore
    {
        public int FailingAppends { get; set; }

        public int Failed { get; private set; }

        public Action<int>? OnFailure { get; set; }

        public Task<EventStream> FetchStreamAsync(string streamId, CancellationToken cancellationToken) => inner.FetchStreamAsync(streamId, cancellationToken);

        public Task<long> AppendAsync(StreamAppend append, CancellationToken cancellationToken)
        {
            if (FailingAppends <= 0) return inner.AppendAsync(append, cancellationToken);
            FailingAppends--;
            Failed++;
            OnFailure?.Invoke(Failed);
            throw new InvalidOperationException("the database is down");
        }

        public Task TrimStreamAsync(string streamId, string streamType, int keepLast, CancellationToken cancellationToken) =>
            inner.TrimStreamAsync(streamId, streamType, keepLast, cancellationToken);
    }
}
