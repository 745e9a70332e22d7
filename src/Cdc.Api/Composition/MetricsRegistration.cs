using Cdc.Api.Hosting;
using Cdc.Api.Metrics;
using Cdc.Application.Metrics;
using Cdc.Infrastructure.Metrics;

namespace Cdc.Api.Composition;

/// <summary>The metrics registry and its users, the scrape collectors and the readiness probe (all singletons).</summary>
public static class MetricsRegistration
{
    public static IServiceCollection AddCdcMetrics(this IServiceCollection services)
    {
        services.AddSingleton<MetricsRegistry>();
        services.AddSingleton<CdcReplicationMetrics>();
        services.AddSingleton<ICdcMetrics>(sp => sp.GetRequiredService<CdcReplicationMetrics>());
        services.AddSingleton<IMetricsCollector>(sp => sp.GetRequiredService<CdcReplicationMetrics>());
        services.AddSingleton<IMetricsCollector, TaskStateMetrics>();
        services.AddSingleton<MetricsScraper>();
        services.AddSingleton<CdcRequestMetrics>();
        services.AddSingleton<ReadinessProbe>();
        return services;
    }
}
