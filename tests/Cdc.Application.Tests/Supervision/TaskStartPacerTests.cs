using Cdc.Application.Replication.Supervision;
using Cdc.Testing;

namespace Cdc.Application.Tests.Supervision;

/// <summary>How the starts of task runs are spaced out (<c>taskStartsPerSecond</c>).</summary>
public sealed class TaskStartPacerTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Starts_asked_for_together_come_one_interval_apart_in_the_order_asked()
    {
        var pacer = new TaskStartPacer(4, new ManualTimeProvider());
        Assert.Equal([Ms(0), Ms(250), Ms(500), Ms(750), Ms(1000)], Enumerable.Range(0, 5).Select(_ => pacer.TakeTurn()));
    }

    [Fact]
    public void A_start_after_a_quiet_interval_goes_at_once_and_quiet_time_is_not_saved_up()
    {
        var clock = new ManualTimeProvider();
        var pacer = new TaskStartPacer(4, clock);
        pacer.TakeTurn();
        pacer.TakeTurn(); // its turn at 250 ms

        clock.Advance(Ms(600));
        Assert.Equal(Ms(0), pacer.TakeTurn()); // the last turn (250 ms) is more than an interval ago
        clock.Advance(Ms(100));
        Assert.Equal(Ms(150), pacer.TakeTurn()); // one interval after the one before

        clock.Advance(TimeSpan.FromHours(1)); // an idle hour gives one start at once, not a burst of 14,400
        Assert.Equal([Ms(0), Ms(250), Ms(500)], Enumerable.Range(0, 3).Select(_ => pacer.TakeTurn()));
    }

    [Fact]
    public void A_rate_below_one_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TaskStartPacer(0, TimeProvider.System));
}
