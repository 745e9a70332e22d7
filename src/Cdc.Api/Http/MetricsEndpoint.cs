using Cdc.Api.Metrics;
using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.Metrics;
using Prometheus;

namespace Cdc.Api.Http;

/// <summary>
/// <c>GET /cdc/metrics</c>: the server's registry in the Prometheus text format 0.0.4, written by prometheus-net.
/// OpenMetrics is not offered whatever the Accept header asks, as the reference serves the text format only:
/// dashboards built on it match its bucket labels (<c>le="1"</c>, where OpenMetrics writes <c>le="1.0"</c>).
/// </summary>
public static class MetricsEndpoint
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var services = app.ServiceProvider;
        // Created now, not on first use: every family is declared and the scrape-time callbacks are registered
        // before the first scrape.
        services.GetRequiredService<CdcReplicationMetrics>();
        services.GetRequiredService<TaskStateMetrics>();
        services.GetRequiredService<CdcRequestMetrics>();
        var registry = services.GetRequiredService<CollectorRegistry>();
        var endpoint = app.MapMetrics(settings =>
            {
                settings.Registry = registry;
                settings.EnableOpenMetrics = false;
            }, "/cdc/metrics")
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
        // Open to scrapers when API tokens are configured, unless apiAuth.protectMetrics asks for a token here too.
        if (!services.GetRequiredService<CdcConfig>().ApiAuth.ProtectMetrics) endpoint.AllowAnonymous();
    }
}
