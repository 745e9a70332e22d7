namespace Cdc.Infrastructure.Metrics;

/// <summary>The Prometheus metric types this registry writes (text exposition format 0.0.4).</summary>
public enum MetricType
{
    Counter,
    Gauge,
    Histogram,
}
