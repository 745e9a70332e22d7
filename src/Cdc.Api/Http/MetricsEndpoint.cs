using Cdc.Infrastructure.Metrics;

namespace Cdc.Api.Http;

/// <summary><c>GET /cdc/metrics</c>: the Prometheus text exposition of every CDC metric.</summary>
public static class MetricsEndpoint
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/cdc/metrics", async (MetricsScraper scraper, HttpContext ctx) =>
            Results.Text(await scraper.ScrapeAsync(ctx.RequestAborted), PrometheusTextFormat.ContentType));
}
