using Cdc.Infrastructure.Metrics;
using Cdc.Testing;
using Cdc.Testing.Metrics;

namespace Cdc.Infrastructure.Tests.Metrics;

/// <summary>The registry's output read back line by line with a strict parser.</summary>
public sealed class PrometheusTextFormatTests
{
    [Fact]
    public void Every_family_has_help_and_type_before_its_samples()
    {
        var registry = new MetricsRegistry();
        registry.Counter("b_total", "second\\family\nwith two lines", "kind").WithLabels("x").Inc(2);
        registry.Gauge("a_gauge", "first family").WithLabels().Set(-1.5);
        registry.Counter("c_unused", "no samples, not written", "kind");

        var text = PrometheusTextFormat.Write(registry.Collect());
        var families = ExpositionParser.Parse(text);

        Assert.Equal(["a_gauge", "b_total"], families.Select(f => f.Name));
        Assert.Equal(("gauge", "first family"), (families[0].Type, families[0].Help));
        Assert.Equal(("counter", "second\\family\nwith two lines"), (families[1].Type, families[1].Help));
        Assert.Contains("# HELP b_total second\\\\family\\nwith two lines\n", text);
        Assert.Equal(-1.5, families[0].Samples.Single().Value);
        Assert.Empty(families[0].Samples.Single().Labels);
        Assert.Equal(2, families[1].Samples.Single().Value);
        Assert.StartsWith("# HELP a_gauge first family\n# TYPE a_gauge gauge\na_gauge -1.5\n", text);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("")]
    [InlineData("back\\slash")]
    [InlineData("double\"quote")]
    [InlineData("new\nline")]
    [InlineData("all \\\" \n \\n together\\")]
    [InlineData("unicode: 集合 ✓")]
    public void Label_values_are_escaped_and_read_back_unchanged(string value)
    {
        var registry = new MetricsRegistry();
        registry.Counter("escaped_total", "escaping", "name", "other").WithLabels(value, "y").Inc();

        var text = PrometheusTextFormat.Write(registry.Collect());
        var sample = ExpositionParser.Parse(text).Single().Samples.Single();

        Assert.Equal(value, sample.Label("name"));
        Assert.Equal("y", sample.Label("other"));
        Assert.Equal(2, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1);
    }

    [Fact]
    public void Escaping_follows_the_format_exactly()
    {
        Assert.Equal("a\\\\b\\\"c\\nd", PrometheusTextFormat.EscapeLabelValue("a\\b\"c\nd"));
        Assert.Equal("a\\\\b\"c\\nd", PrometheusTextFormat.EscapeHelp("a\\b\"c\nd"));
    }

    [Fact]
    public void Histogram_buckets_are_cumulative_and_end_with_inf_equal_to_count()
    {
        var registry = new MetricsRegistry();
        var histogram = registry.Histogram("latency", "ms", Histogram.ExponentialBuckets(1, 2, 8), "request_type");
        foreach (var v in new[] { 0.5, 1, 1.5, 3, 100, 128, 129, 5000 }) histogram.WithLabels("create").Observe(v);
        histogram.WithLabels("list").Observe(2);

        var family = ExpositionParser.Parse(PrometheusTextFormat.Write(registry.Collect())).Single();
        Assert.Equal("histogram", family.Type);

        var create = family.Samples.Where(s => s.Labels.GetValueOrDefault("request_type") == "create").ToList();
        var buckets = create.Where(s => s.Name == "latency_bucket").ToList();
        Assert.Equal(["1", "2", "4", "8", "16", "32", "64", "128", "+Inf"], buckets.Select(b => b.Label("le")));
        Assert.Equal([2, 3, 4, 4, 4, 4, 4, 6, 8], buckets.Select(b => b.Value));
        Assert.Equal(0.5 + 1 + 1.5 + 3 + 100 + 128 + 129 + 5000, create.Single(s => s.Name == "latency_sum").Value);
        Assert.Equal(8, create.Single(s => s.Name == "latency_count").Value);
        Assert.False(create.Single(s => s.Name == "latency_sum").Labels.ContainsKey("le"));

        var list = family.Samples.Where(s => s.Labels.GetValueOrDefault("request_type") == "list").ToList();
        Assert.Equal([0, 1, 1, 1, 1, 1, 1, 1, 1], list.Where(s => s.Name == "latency_bucket").Select(b => b.Value));
        Assert.Equal(1, list.Single(s => s.Name == "latency_count").Value);
    }

    [Fact]
    public void Values_are_written_as_prometheus_reads_them()
    {
        Assert.Equal("+Inf", PrometheusTextFormat.FormatValue(double.PositiveInfinity));
        Assert.Equal("-Inf", PrometheusTextFormat.FormatValue(double.NegativeInfinity));
        Assert.Equal("NaN", PrometheusTextFormat.FormatValue(double.NaN));
        Assert.Equal("0.1", PrometheusTextFormat.FormatValue(0.1));
        Assert.Equal("1732000000123", PrometheusTextFormat.FormatValue(1732000000123));
        Assert.Equal(1e21, double.Parse(PrometheusTextFormat.FormatValue(1e21), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_family_written_twice_is_refused()
    {
        var f = new MetricFamilySnapshot("dup", "h", MetricType.Gauge, [new MetricSample("dup", [], 1)]);
        Assert.Throws<InvalidOperationException>(() => PrometheusTextFormat.Write([f, f]));
    }
}
