using System.Collections.Concurrent;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// The process's metric families by name (one registry, a DI singleton; nothing static). Asking again for a
/// family returns the one already registered when its type and label names match, and fails otherwise.
/// </summary>
public sealed class MetricsRegistry
{
    private readonly ConcurrentDictionary<string, IMetricFamily> _families = new(StringComparer.Ordinal);

    public Counter Counter(string name, string help, params string[] labelNames) =>
        GetOrAdd(name, labelNames, () => new Counter(name, help, labelNames));

    public Gauge Gauge(string name, string help, params string[] labelNames) =>
        GetOrAdd(name, labelNames, () => new Gauge(name, help, labelNames));

    public Histogram Histogram(string name, string help, IReadOnlyList<double> bounds, params string[] labelNames)
    {
        var histogram = GetOrAdd(name, labelNames, () => new Histogram(name, help, labelNames, bounds));
        if (!histogram.Bounds.SequenceEqual(bounds))
            throw new InvalidOperationException($"the histogram {name} is already registered with other buckets");
        return histogram;
    }

    /// <summary>Every family, ordered by name.</summary>
    public IReadOnlyList<MetricFamilySnapshot> Collect() =>
        _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => f.Collect()).ToList();

    private T GetOrAdd<T>(string name, IReadOnlyList<string> labelNames, Func<T> create) where T : class, IMetricFamily
    {
        var family = _families.GetOrAdd(name, _ => create());
        if (family is not T typed || !family.LabelNames.SequenceEqual(labelNames, StringComparer.Ordinal))
            throw new InvalidOperationException(
                $"the metric {name} is already registered as a {family.Type} with labels ({string.Join(", ", family.LabelNames)})");
        return typed;
    }
}
