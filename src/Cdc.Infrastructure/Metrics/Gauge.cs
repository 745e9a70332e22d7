namespace Cdc.Infrastructure.Metrics;

/// <summary>A value that is set, or goes up and down.</summary>
public sealed class Gauge(string name, string help, IReadOnlyList<string> labelNames)
    : MetricFamily<Gauge.Series>(name, help, labelNames)
{
    public override MetricType Type => MetricType.Gauge;

    protected override Series CreateChild() => new();

    protected override void AddSamples(List<MetricSample> samples, IReadOnlyList<KeyValuePair<string, string>> labels, Series child) =>
        samples.Add(new MetricSample(Name, labels, child.Value));

    /// <summary>One labelled gauge.</summary>
    public sealed class Series
    {
        private double _value;

        public double Value => Volatile.Read(ref _value);

        public void Set(double value) => Volatile.Write(ref _value, value);

        public void Inc(double amount = 1)
        {
            double seen, next;
            do
            {
                seen = Volatile.Read(ref _value);
                next = seen + amount;
            } while (BitConverter.DoubleToInt64Bits(Interlocked.CompareExchange(ref _value, next, seen)) != BitConverter.DoubleToInt64Bits(seen));
        }

        public void Dec(double amount = 1) => Inc(-amount);
    }
}
