namespace Cdc.Infrastructure.Metrics;

/// <summary>A metric family as read at one moment: what the exposition writer renders as one block.</summary>
public sealed record MetricFamilySnapshot(string Name, string Help, MetricType Type, IReadOnlyList<MetricSample> Samples);
