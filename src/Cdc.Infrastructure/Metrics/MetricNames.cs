namespace Cdc.Infrastructure.Metrics;

/// <summary>The Prometheus naming rules for metric and label names.</summary>
public static class MetricNames
{
    /// <summary>Checks <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>.</summary>
    public static void ValidateMetricName(string name)
    {
        if (!IsValid(name, allowColon: true))
            throw new ArgumentException($"'{name}' is not a valid metric name", nameof(name));
    }

    /// <summary>Checks <c>[a-zA-Z_][a-zA-Z0-9_]*</c>, not starting with the reserved <c>__</c>.</summary>
    public static void ValidateLabelName(string name)
    {
        if (!IsValid(name, allowColon: false) || name.StartsWith("__", StringComparison.Ordinal))
            throw new ArgumentException($"'{name}' is not a valid label name", nameof(name));
    }

    private static bool IsValid(string name, bool allowColon)
    {
        if (string.IsNullOrEmpty(name)) return false;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || (allowColon && c == ':') || (i > 0 && c is >= '0' and <= '9');
            if (!ok) return false;
        }
        return true;
    }
}
