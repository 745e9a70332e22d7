namespace Cdc.Infrastructure.Metrics;

/// <summary>A value that only goes up (it starts again at 0 when the process restarts).</summary>
public sealed class Counter(string name, string help, IReadOnlyList<string> labelNames)
    : MetricFamily<Counter.Series>(name, help, labelNames)
{
    public override MetricType Type => MetricType.Counter;

    protected override Series CreateChild() => new();

    protected override void AddSamples(List<MetricSample> samples, IReadOnlyList<KeyValuePair<string, string>> labels, Series child) =>
        samples.Add(new MetricSample(Name, labels, child.Value));

    /// <summary>One labelled counter.</summary>
    public sealed class Series
    {
        private double _value;

        public double Value => Volatile.Read(ref _value);

        /// <summary>Adds <paramref name="amount"/>, which must be zero or more.</summary>
        public void Inc(double amount = 1)
        {
            if (!(amount >= 0)) throw new ArgumentOutOfRangeException(nameof(amount), amount, "a counter only goes up");
            double seen, next;
            do
            {
                seen = Volatile.Read(ref _value);
                next = seen + amount;
            } while (BitConverter.DoubleToInt64Bits(Interlocked.CompareExchange(ref _value, next, seen)) != BitConverter.DoubleToInt64Bits(seen));
        }
    }
}
