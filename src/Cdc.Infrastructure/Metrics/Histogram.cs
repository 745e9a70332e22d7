using System.Globalization;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// Observations counted into buckets with upper bounds (<c>le</c>), plus their sum and count. The exposition is
/// cumulative: each bucket counts every observation at or below its bound, and <c>+Inf</c> equals the count.
/// </summary>
public sealed class Histogram : MetricFamily<Histogram.Series>
{
    private readonly double[] _bounds;
    private readonly string[] _boundLabels;

    public Histogram(string name, string help, IReadOnlyList<string> labelNames, IReadOnlyList<double> bounds)
        : base(name, help, labelNames)
    {
        if (labelNames.Contains("le", StringComparer.Ordinal))
            throw new ArgumentException($"{name}: a histogram cannot have a label named le", nameof(labelNames));
        if (bounds.Count == 0) throw new ArgumentException($"{name}: a histogram needs at least one bucket", nameof(bounds));
        for (var i = 0; i < bounds.Count; i++)
        {
            if (!double.IsFinite(bounds[i])) throw new ArgumentException($"{name}: bucket bounds must be finite (+Inf is implied)", nameof(bounds));
            if (i > 0 && bounds[i] <= bounds[i - 1]) throw new ArgumentException($"{name}: bucket bounds must increase", nameof(bounds));
        }
        _bounds = bounds.ToArray();
        _boundLabels = _bounds.Select(PrometheusTextFormat.FormatValue).Append("+Inf").ToArray();
    }

    public IReadOnlyList<double> Bounds => _bounds;

    public override MetricType Type => MetricType.Histogram;

    /// <summary><paramref name="count"/> bounds: start, start·factor, start·factor², …</summary>
    public static double[] ExponentialBuckets(double start, double factor, int count)
    {
        if (start <= 0 || factor <= 1 || count < 1) throw new ArgumentOutOfRangeException(nameof(count), "need start > 0, factor > 1, count ≥ 1");
        var bounds = new double[count];
        for (var i = 0; i < count; i++) bounds[i] = start * Math.Pow(factor, i);
        return bounds;
    }

    protected override Series CreateChild() => new(_bounds);

    protected override void AddSamples(List<MetricSample> samples, IReadOnlyList<KeyValuePair<string, string>> labels, Series child)
    {
        var (buckets, sum, count) = child.Read();
        long cumulative = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            cumulative += buckets[i];
            var withLe = new List<KeyValuePair<string, string>>(labels) { new("le", _boundLabels[i]) };
            samples.Add(new MetricSample(Name + "_bucket", withLe, cumulative));
        }
        samples.Add(new MetricSample(Name + "_sum", labels, sum));
        samples.Add(new MetricSample(Name + "_count", labels, count));
    }

    /// <summary>One labelled histogram.</summary>
    public sealed class Series
    {
        private readonly object _gate = new();
        private readonly double[] _bounds;
        private readonly long[] _buckets;
        private double _sum;
        private long _count;

        internal Series(double[] bounds)
        {
            _bounds = bounds;
            _buckets = new long[bounds.Length + 1];
        }

        /// <summary>Counts one observation into the first bucket whose bound is at or above it (+Inf otherwise).</summary>
        public void Observe(double value)
        {
            var index = 0;
            while (index < _bounds.Length && !(value <= _bounds[index])) index++;
            lock (_gate)
            {
                _buckets[index]++;
                _sum += value;
                _count++;
            }
        }

        /// <summary>A consistent copy: per-bucket (not cumulative) counts with +Inf last, the sum and the count.</summary>
        public (long[] Buckets, double Sum, long Count) Read()
        {
            lock (_gate) return ((long[])_buckets.Clone(), _sum, _count);
        }
    }
}
