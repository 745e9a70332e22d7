using System.Text;
using Prometheus;

namespace Cdc.Testing.Metrics;

/// <summary>A registry scraped in the text format <c>/cdc/metrics</c> serves, read back by <see cref="ExpositionParser"/>.</summary>
public static class RegistryScrape
{
    public static async Task<string> TextAsync(CollectorRegistry registry, CancellationToken cancellationToken = default)
    {
        using var body = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(body, ExpositionFormat.PrometheusText, cancellationToken);
        return Encoding.UTF8.GetString(body.ToArray());
    }

    /// <summary>The families by name; a family declared without series has no samples.</summary>
    public static async Task<Dictionary<string, ParsedFamily>> FamiliesAsync(CollectorRegistry registry, CancellationToken cancellationToken = default) =>
        ExpositionParser.Parse(await TextAsync(registry, cancellationToken)).ToDictionary(f => f.Name);
}
