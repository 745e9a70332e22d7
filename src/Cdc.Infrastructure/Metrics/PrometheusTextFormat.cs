using System.Globalization;
using System.Text;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format, version 0.0.4: per family a <c># HELP</c> and a <c># TYPE</c> line,
/// then one line per sample, <c>name{label="value",...} value</c>, lines ending in <c>\n</c>. Families without
/// samples are left out (as the Go client does).
/// </summary>
public static class PrometheusTextFormat
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(IEnumerable<MetricFamilySnapshot> families)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        Write(text, families);
        return text.ToString();
    }

    /// <exception cref="InvalidOperationException">two families have the same name.</exception>
    public static void Write(TextWriter writer, IEnumerable<MetricFamilySnapshot> families)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var line = new StringBuilder();
        foreach (var family in families)
        {
            if (!seen.Add(family.Name)) throw new InvalidOperationException($"the metric family {family.Name} is written twice");
            if (family.Samples.Count == 0) continue;
            line.Clear();
            line.Append("# HELP ").Append(family.Name).Append(' ').Append(EscapeHelp(family.Help)).Append('\n');
            line.Append("# TYPE ").Append(family.Name).Append(' ').Append(TypeName(family.Type)).Append('\n');
            foreach (var sample in family.Samples)
            {
                line.Append(sample.Name);
                if (sample.Labels.Count > 0)
                {
                    line.Append('{');
                    for (var i = 0; i < sample.Labels.Count; i++)
                    {
                        if (i > 0) line.Append(',');
                        line.Append(sample.Labels[i].Key).Append("=\"").Append(EscapeLabelValue(sample.Labels[i].Value)).Append('"');
                    }
                    line.Append('}');
                }
                line.Append(' ').Append(FormatValue(sample.Value)).Append('\n');
            }
            writer.Write(line);
        }
    }

    public static string TypeName(MetricType type) => type switch
    {
        MetricType.Counter => "counter",
        MetricType.Gauge => "gauge",
        MetricType.Histogram => "histogram",
        _ => "untyped",
    };

    /// <summary>A label value: backslash, double quote and line feed escaped as <c>\\</c>, <c>\"</c>, <c>\n</c>.</summary>
    public static string EscapeLabelValue(string value) =>
        value.AsSpan().IndexOfAny('\\', '"', '\n') < 0 ? value
            : value.Replace("\\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");

    /// <summary>A HELP text: backslash and line feed escaped.</summary>
    public static string EscapeHelp(string help) =>
        help.AsSpan().IndexOfAny('\\', '\n') < 0 ? help : help.Replace("\\", @"\\").Replace("\n", @"\n");

    /// <summary>A sample value as Go's ParseFloat reads it: shortest round-trip form, <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>.</summary>
    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
