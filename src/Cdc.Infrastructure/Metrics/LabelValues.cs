namespace Cdc.Infrastructure.Metrics;

/// <summary>The label values of one series of a family, compared by value (ordinal).</summary>
public sealed class LabelValues : IEquatable<LabelValues>, IComparable<LabelValues>
{
    private readonly string[] _values;

    public LabelValues(IReadOnlyList<string> values)
    {
        _values = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
            _values[i] = values[i] ?? throw new ArgumentNullException(nameof(values), $"label value {i} is null");
    }

    public IReadOnlyList<string> Values => _values;

    public bool Equals(LabelValues? other) => other is not null && _values.AsSpan().SequenceEqual(other._values);

    public override bool Equals(object? obj) => Equals(obj as LabelValues);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var v in _values) hash.Add(v, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    public int CompareTo(LabelValues? other)
    {
        if (other is null) return 1;
        for (var i = 0; i < Math.Min(_values.Length, other._values.Length); i++)
        {
            var c = string.CompareOrdinal(_values[i], other._values[i]);
            if (c != 0) return c;
        }
        return _values.Length.CompareTo(other._values.Length);
    }
}
