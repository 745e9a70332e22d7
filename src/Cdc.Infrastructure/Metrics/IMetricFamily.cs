namespace Cdc.Infrastructure.Metrics;

/// <summary>A family kept in the <see cref="MetricsRegistry"/>: read whole at scrape time.</summary>
public interface IMetricFamily
{
    string Name { get; }
    MetricType Type { get; }
    IReadOnlyList<string> LabelNames { get; }
    MetricFamilySnapshot Collect();
}
