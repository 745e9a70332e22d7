using System.Runtime.CompilerServices;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Cdc.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Application.Tests.Source;

/// <summary>
/// The catch-up check against readers whose newest message the test sets: caught up when every channel has completed
/// what the previous probe found, whatever was written since; never when it cannot tell.
/// </summary>
public sealed class CatchUpCheckTests
{
    private const string Dml0 = "dml_0", Dml1 = "dml_1", Replicate = "replicate-msg";
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<string, ProbedReader> _readers = new(StringComparer.Ordinal);

    private CatchUpCheck Check() => new("t1", c => _readers.GetValueOrDefault(c), _clock, NullLogger.Instance);

    private ProbedReader Reader(string channel, long? newest)
    {
        var reader = new ProbedReader(channel) { Newest = newest };
        _readers[channel] = reader;
        return reader;
    }

    private static SourcePosition At(string channel, long offset) => new(channel, BitConverter.GetBytes(offset));

    private static Dictionary<string, SourcePosition> Completed(params (string Channel, long Offset)[] done) =>
        done.ToDictionary(d => d.Channel, d => At(d.Channel, d.Offset), StringComparer.Ordinal);

    [Fact]
    public async Task Ticks_written_after_the_probe_do_not_matter_but_messages_waiting_at_the_probe_do()
    {
        var check = Check();
        var dml0 = Reader(Dml0, 10);
        var dml1 = Reader(Dml1, 7);
        string[] channels = [Dml0, Dml1];
        var probedAt = _clock.GetUtcNow();
        await check.ProbeAsync(channels, TimeSpan.FromSeconds(5), default);

        // A second later the source has ticked on (12, 9), the task has completed the probed messages and one tick more.
        _clock.Advance(TimeSpan.FromSeconds(1));
        (dml0.Newest, dml1.Newest) = (12, 9);
        Assert.Equal(probedAt, check.Check(channels, Completed((Dml0, 11), (Dml1, 7))));

        // One channel is one message short of what the probe found: not caught up.
        Assert.Null(check.Check(channels, Completed((Dml0, 11), (Dml1, 6))));
        // A channel that completed nothing yet while its source holds messages: not caught up.
        Assert.Null(check.Check(channels, Completed((Dml0, 11))));
    }

    [Fact]
    public async Task An_empty_channel_is_caught_up_without_having_read_anything()
    {
        var check = Check();
        Reader(Replicate, null);
        Reader(Dml0, 3);
        await check.ProbeAsync([Replicate, Dml0], TimeSpan.FromSeconds(5), default);
        Assert.NotNull(check.Check([Replicate, Dml0], Completed((Dml0, 3))));
    }

    [Fact]
    public async Task What_cannot_be_told_is_not_caught_up()
    {
        var check = Check();
        Reader(Dml0, 5);
        string[] channels = [Dml0];

        Assert.Null(check.Check(channels, Completed((Dml0, 5)))); // no probe yet
        await check.ProbeAsync(channels, TimeSpan.FromSeconds(5), default);
        Assert.NotNull(check.Check(channels, Completed((Dml0, 5))));
        Assert.Null(check.Check([], Completed((Dml0, 5)))); // no channel read yet

        // A channel the task began to read after the probe (a new collection's): not probed, so not known.
        Reader(Dml1, null);
        Assert.Null(check.Check([Dml0, Dml1], Completed((Dml0, 5))));

        // The MQ does not answer for one channel.
        _readers[Dml0].Failure = new SourceChannelException(Dml0, "broker unreachable");
        await check.ProbeAsync([Dml0, Dml1], TimeSpan.FromSeconds(5), default);
        Assert.Null(check.Check([Dml0, Dml1], Completed((Dml0, 5))));

        // A channel whose reader is being reopened.
        _readers.Remove(Dml0);
        await check.ProbeAsync([Dml0, Dml1], TimeSpan.FromSeconds(5), default);
        Assert.Null(check.Check([Dml0, Dml1], Completed((Dml0, 5))));

        // A reader that cannot ask its MQ for the newest message (the port's default).
        _readers[Dml0] = new ProbedReader(Dml0) { Unsupported = true };
        await check.ProbeAsync([Dml0, Dml1], TimeSpan.FromSeconds(5), default);
        Assert.Null(check.Check([Dml0, Dml1], Completed((Dml0, 5))));
    }

    [Fact]
    public async Task A_probe_the_MQ_does_not_answer_in_time_is_unknown()
    {
        var check = Check();
        Reader(Dml0, 5).Hangs = true;
        await check.ProbeAsync([Dml0], TimeSpan.FromMilliseconds(50), default);
        Assert.Null(check.Check([Dml0], Completed((Dml0, 5))));
    }

    [Fact]
    public async Task The_monitor_reports_since_when_a_run_is_caught_up_and_forgets_it_when_it_falls_behind_or_restarts()
    {
        var monitors = new TestMonitors();
        var monitor = monitors.Monitor(_clock);
        await monitor.StartedAsync(null, default);
        var firstCheck = _clock.GetUtcNow();
        monitor.CaughtUp(firstCheck.AddSeconds(-1));
        await monitor.FlushAsync(default);
        Assert.Equal((firstCheck, firstCheck.AddSeconds(-1)), (monitors.Reports.Last!.CaughtUpSince, monitors.Reports.Last.CaughtUpAsOf));

        // Each further verdict moves "as of", not "since".
        _clock.Advance(TimeSpan.FromSeconds(1));
        monitor.CaughtUp(firstCheck);
        await monitor.FlushAsync(default);
        Assert.Equal((firstCheck, firstCheck), (monitors.Reports.Last!.CaughtUpSince, monitors.Reports.Last.CaughtUpAsOf));

        // Behind: both go; caught up again later: a later since.
        _clock.Advance(TimeSpan.FromSeconds(1));
        monitor.CaughtUp(null);
        await monitor.FlushAsync(default);
        Assert.Null(monitors.Reports.Last!.CaughtUpSince);
        Assert.Null(monitors.Reports.Last.CaughtUpAsOf);
        _clock.Advance(TimeSpan.FromSeconds(1));
        monitor.CaughtUp(_clock.GetUtcNow().AddSeconds(-1));
        await monitor.FlushAsync(default);
        Assert.Equal(_clock.GetUtcNow(), monitors.Reports.Last!.CaughtUpSince);

        // A new run of the task starts without the previous run's verdict, and so does a stopped one.
        var previous = monitors.Reports.Last;
        await monitors.Monitor(_clock).StartedAsync(previous, default);
        Assert.Null(monitors.Reports.Last!.CaughtUpSince);
        monitor.CaughtUp(_clock.GetUtcNow());
        await monitor.StoppedAsync(default);
        Assert.Null(monitors.Reports.Last!.CaughtUpSince);
        Assert.NotNull(monitors.Reports.Last.StoppedAt);
    }

    /// <summary>A reader whose newest message (an offset) the test sets; it reads nothing.</summary>
    private sealed class ProbedReader(string channel) : ISourceChannelReader
    {
        public long? Newest { get; set; }
        public Exception? Failure { get; set; }
        public bool Hangs { get; set; }
        public bool Unsupported { get; init; }

        public string Channel => channel;

        public async IAsyncEnumerable<SourceMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }

        public async Task<SourcePosition?> NewestAsync(CancellationToken cancellationToken)
        {
            if (Unsupported) return await ((ISourceChannelReader)new DefaultReader(channel)).NewestAsync(cancellationToken);
            if (Hangs) await Task.Delay(Timeout.Infinite, cancellationToken);
            if (Failure is not null) throw Failure;
            return Newest is { } offset ? At(channel, offset) : null;
        }

        public bool Reached(SourcePosition completed, SourcePosition newest) =>
            BitConverter.ToInt64(completed.MessageId.Span) >= BitConverter.ToInt64(newest.MessageId.Span);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A reader with only what every reader must have: the port's defaults for the rest.</summary>
    private sealed class DefaultReader(string channel) : ISourceChannelReader
    {
        public string Channel => channel;

        public IAsyncEnumerable<SourceMessage> ReadAllAsync(CancellationToken cancellationToken) => AsyncEnumerable.Empty<SourceMessage>();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
