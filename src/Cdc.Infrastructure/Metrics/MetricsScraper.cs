using Microsoft.Extensions.Logging;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// One scrape: the registry's families followed by every collector's. A collector that fails or does not answer
/// within <see cref="CollectorTimeout"/> (the database is down, say) is left out of that scrape and logged; the
/// other families are still served.
/// </summary>
public sealed class MetricsScraper(
    MetricsRegistry registry,
    IEnumerable<IMetricsCollector> collectors,
    TimeProvider clock,
    ILogger<MetricsScraper> logger)
{
    public TimeSpan CollectorTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public async Task<string> ScrapeAsync(CancellationToken cancellationToken)
    {
        var families = new List<MetricFamilySnapshot>(registry.Collect());
        foreach (var collector in collectors)
        {
            using var timeout = new CancellationTokenSource(CollectorTimeout, clock);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                families.AddRange(await collector.CollectAsync(linked.Token));
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "the {Collector} metrics are left out of this scrape: {Message}", collector.Name, ex.Message);
            }
        }
        return PrometheusTextFormat.Write(families);
    }
}
