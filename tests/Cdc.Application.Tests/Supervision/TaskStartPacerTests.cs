using Cdc.Application.Replication.Supervision;
using Cdc.Testing;

namespace Cdc.Application.Tests.Supervision;

/// <summary>How the starts of task runs are spaced out (<c>taskStartsPerSecond</c>).</summary>
public sealed class TaskStartPacerTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void As_many_starts_as_the_rate_go_at_once_and_the_next_ones_one_interval_apart()
    {
        var clock = new ManualTimeProvider();
        var pacer = new TaskStartPacer(4, clock);

        var waits = Enumerable.Range(0, 7).Select(_ => pacer.TakeTurn()).ToList();

        Assert.All(waits.Take(4), w => Assert.True(w <= TimeSpan.Zero, $"one of the first four waits {w}"));
        Assert.Equal([Ms(250), Ms(500), Ms(750)], waits.Skip(4));
    }

    [Fact]
    public void Time_without_starts_gives_the_burst_back_but_never_more()
    {
        var clock = new ManualTimeProvider();
        var pacer = new TaskStartPacer(4, clock);
        for (var i = 0; i < 6; i++) pacer.TakeTurn(); // the last two waited 250 and 500 ms

        clock.Advance(TimeSpan.FromSeconds(2)); // their turns passed, and the burst grew back one turn per 250 ms
        Assert.All(Enumerable.Range(0, 4).Select(_ => pacer.TakeTurn()), w => Assert.True(w <= TimeSpan.Zero));
        Assert.Equal(Ms(250), pacer.TakeTurn());

        clock.Advance(TimeSpan.FromHours(1)); // an idle hour is worth one burst, not 14,400 starts
        Assert.Equal(4, Enumerable.Range(0, 5).Count(_ => pacer.TakeTurn() <= TimeSpan.Zero));
    }

    [Fact]
    public void Turns_keep_the_order_they_were_asked_in()
    {
        var clock = new ManualTimeProvider();
        var pacer = new TaskStartPacer(1, clock);
        var waits = Enumerable.Range(0, 4).Select(_ => pacer.TakeTurn()).ToList();
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)], waits);
    }

    [Fact]
    public void A_rate_below_one_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TaskStartPacer(0, TimeProvider.System));
}
