using Cdc.Infrastructure.Metrics;

namespace Cdc.Infrastructure.Tests.Metrics;

public sealed class MetricsRegistryTests
{
    [Fact]
    public void The_same_name_gives_the_same_family_and_a_clash_is_refused()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("x_total", "h", "a");
        Assert.Same(counter, registry.Counter("x_total", "h", "a"));
        Assert.Throws<InvalidOperationException>(() => registry.Gauge("x_total", "h", "a"));
        Assert.Throws<InvalidOperationException>(() => registry.Counter("x_total", "h", "b"));
        registry.Histogram("h", "h", [1, 2]);
        Assert.Throws<InvalidOperationException>(() => registry.Histogram("h", "h", [1, 3]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1abc")]
    [InlineData("with-dash")]
    [InlineData("sp ace")]
    public void Invalid_metric_names_are_refused(string name) =>
        Assert.Throws<ArgumentException>(() => new MetricsRegistry().Counter(name, "h"));

    [Theory]
    [InlineData("__reserved")]
    [InlineData("a:b")]
    [InlineData("9")]
    public void Invalid_label_names_are_refused(string label) =>
        Assert.Throws<ArgumentException>(() => new MetricsRegistry().Counter("ok", "h", label));

    [Fact]
    public void Label_rules_are_checked()
    {
        var registry = new MetricsRegistry();
        Assert.Throws<ArgumentException>(() => registry.Histogram("h1", "h", [1], "le"));
        Assert.Throws<ArgumentException>(() => registry.Counter("c1", "h", "a", "a"));
        Assert.Throws<ArgumentException>(() => registry.Histogram("h2", "h", [2, 1]));
        Assert.Throws<ArgumentException>(() => registry.Histogram("h3", "h", [1, double.PositiveInfinity]));
        var counter = registry.Counter("c2", "h", "a", "b");
        Assert.Throws<ArgumentException>(() => counter.WithLabels("only one"));
        Assert.Throws<ArgumentNullException>(() => counter.WithLabels("a", null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => counter.WithLabels("a", "b").Inc(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => counter.WithLabels("a", "b").Inc(double.NaN));
    }

    [Fact]
    public void Gauges_go_up_and_down_and_series_can_be_removed()
    {
        var gauge = new MetricsRegistry().Gauge("g", "h", "task_id", "channel");
        gauge.WithLabels("t1", "c1").Set(10);
        gauge.WithLabels("t1", "c1").Inc(5);
        gauge.WithLabels("t1", "c1").Dec(2);
        gauge.WithLabels("t1", "c2").Set(1);
        gauge.WithLabels("t2", "c1").Set(1);
        Assert.Equal(13, gauge.WithLabels("t1", "c1").Value);

        Assert.Equal(2, gauge.RemoveWhere("task_id", "t1"));
        Assert.Equal(["t2"], gauge.CurrentSeries().Select(s => s.Labels.Values[0]));
        Assert.True(gauge.Remove("t2", "c1"));
        Assert.Empty(gauge.Collect().Samples);
    }

    [Fact]
    public async Task Concurrent_updates_are_all_counted()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("c_total", "h", "worker");
        var gauge = registry.Gauge("g", "h");
        var histogram = registry.Histogram("lat", "h", Histogram.ExponentialBuckets(1, 2, 8));
        const int perWorker = 20_000;
        var scrapes = 0;
        using var stop = new CancellationTokenSource();
        var scraping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scraper = Task.Run(() =>
        {
            scraping.SetResult();
            while (!stop.IsCancellationRequested)
            {
                var h = registry.Collect().Single(f => f.Name == "lat").Samples;
                if (h.Count > 0) Assert.Equal(h.Single(s => s.Name == "lat_count").Value, h.Single(s => s.Labels.Any(l => l.Value == "+Inf")).Value);
                scrapes++;
            }
        });
        await scraping.Task; // the scraper runs while the workers update (on 2 busy cores it might not start otherwise)
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < perWorker; i++)
            {
                counter.WithLabels((w % 2).ToString()).Inc();
                gauge.WithLabels().Inc(0.5);
                histogram.WithLabels().Observe(i % 300);
            }
        })));
        stop.Cancel();
        await scraper;

        Assert.Equal(8 * perWorker, counter.CurrentSeries().Sum(s => s.Child.Value));
        Assert.Equal(8 * perWorker * 0.5, gauge.WithLabels().Value);
        Assert.Equal(8 * perWorker, histogram.WithLabels().Read().Count);
        Assert.True(scrapes > 0);
    }
}
