namespace Cdc.Infrastructure.Metrics;

/// <summary>A source of families computed when they are scraped (from a query, or from the clock).</summary>
public interface IMetricsCollector
{
    /// <summary>A short name for logs when collecting fails.</summary>
    string Name { get; }

    Task<IReadOnlyList<MetricFamilySnapshot>> CollectAsync(CancellationToken cancellationToken);
}
