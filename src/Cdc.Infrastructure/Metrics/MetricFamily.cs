using System.Collections.Concurrent;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// A named metric with label names and one child (series) per distinct set of label values, created on first use.
/// Safe for concurrent use; a series removed while another thread updates it loses that update.
/// </summary>
public abstract class MetricFamily<TChild> : IMetricFamily where TChild : class
{
    private readonly ConcurrentDictionary<LabelValues, TChild> _children = new();
    private readonly string[] _labelNames;

    protected MetricFamily(string name, string help, IReadOnlyList<string> labelNames)
    {
        MetricNames.ValidateMetricName(name);
        foreach (var label in labelNames) MetricNames.ValidateLabelName(label);
        if (labelNames.Distinct(StringComparer.Ordinal).Count() != labelNames.Count)
            throw new ArgumentException($"{name}: label names repeat", nameof(labelNames));
        Name = name;
        Help = help ?? throw new ArgumentNullException(nameof(help));
        _labelNames = labelNames.ToArray();
    }

    public string Name { get; }
    public string Help { get; }
    public IReadOnlyList<string> LabelNames => _labelNames;
    public abstract MetricType Type { get; }

    /// <summary>The series with these label values (in the order of <see cref="LabelNames"/>).</summary>
    public TChild WithLabels(params string[] labelValues)
    {
        if (labelValues.Length != _labelNames.Length)
            throw new ArgumentException($"{Name} takes {_labelNames.Length} label values ({string.Join(", ", _labelNames)}), got {labelValues.Length}");
        return _children.GetOrAdd(new LabelValues(labelValues), static (_, self) => self.CreateChild(), this);
    }

    /// <summary>Removes one series; false when it did not exist.</summary>
    public bool Remove(params string[] labelValues) => _children.TryRemove(new LabelValues(labelValues), out _);

    /// <summary>Removes every series whose label <paramref name="labelName"/> equals <paramref name="value"/>.</summary>
    public int RemoveWhere(string labelName, string value)
    {
        var index = Array.IndexOf(_labelNames, labelName);
        if (index < 0) return 0;
        var removed = 0;
        foreach (var key in _children.Keys)
            if (key.Values[index] == value && _children.TryRemove(key, out _)) removed++;
        return removed;
    }

    /// <summary>The current series with their label values, ordered by label values.</summary>
    public IReadOnlyList<(LabelValues Labels, TChild Child)> CurrentSeries() =>
        _children.Select(kv => (kv.Key, kv.Value)).OrderBy(s => s.Key).ToList();

    public MetricFamilySnapshot Collect()
    {
        var samples = new List<MetricSample>();
        foreach (var (values, child) in CurrentSeries())
        {
            var labels = new KeyValuePair<string, string>[_labelNames.Length];
            for (var i = 0; i < labels.Length; i++) labels[i] = new(_labelNames[i], values.Values[i]);
            AddSamples(samples, labels, child);
        }
        return new MetricFamilySnapshot(Name, Help, Type, samples);
    }

    protected abstract TChild CreateChild();

    protected abstract void AddSamples(List<MetricSample> samples, IReadOnlyList<KeyValuePair<string, string>> labels, TChild child);
}
