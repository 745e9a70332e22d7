namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// One exposition line: the sample's full name (a histogram's <c>_bucket</c>, <c>_sum</c> and <c>_count</c>
/// included), its labels in order and its value.
/// </summary>
public sealed record MetricSample(string Name, IReadOnlyList<KeyValuePair<string, string>> Labels, double Value);
