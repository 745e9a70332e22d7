using Cdc.Api.Hosting;
using Cdc.Api.Metrics;
using Cdc.Application.Metrics;
using Cdc.Infrastructure.Metrics;
using Prometheus;

namespace Cdc.Api.Composition;

/// <summary>
/// The server's own prometheus-net registry (not the library's static default one: several servers in one process
/// keep their series apart), the metrics written into it and the readiness probe (all singletons).
/// </summary>
public static class MetricsRegistration
{
    public static IServiceCollection AddCdcMetrics(this IServiceCollection services)
    {
        services.AddSingleton(_ =>
        {
            var registry = Prometheus.Metrics.NewCustomRegistry();
            // process_* (CPU, memory, threads, handles) and dotnet_* (GC counts, heap): read at scrape time.
            DotNetStats.Register(registry);
            return registry;
        });
        services.AddSingleton<CdcReplicationMetrics>();
        services.AddSingleton<ICdcMetrics>(sp => sp.GetRequiredService<CdcReplicationMetrics>());
        services.AddSingleton<TaskStateMetrics>();
        services.AddSingleton<CdcRequestMetrics>();
        services.AddSingleton<ReadinessProbe>();
        return services;
    }
}
