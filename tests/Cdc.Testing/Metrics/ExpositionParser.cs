using System.Globalization;
using System.Text;

namespace Cdc.Testing.Metrics;

/// <summary>One sample line read back from the text exposition format.</summary>
public sealed record ParsedSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"{Name} has no label {name}");
}

/// <summary>One family read back: its HELP (unescaped), TYPE and samples, in the order written.</summary>
public sealed record ParsedFamily(string Name, string Help, string Type, IReadOnlyList<ParsedSample> Samples);

/// <summary>
/// A strict reader of the Prometheus text format 0.0.4 for tests: every line must be a HELP, a TYPE or a sample of
/// the family announced just before it; label values are unescaped; anything else fails with the line number.
/// </summary>
public static class ExpositionParser
{
    public static IReadOnlyList<ParsedFamily> Parse(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n')) throw new FormatException("the exposition must end with a line feed");
        var families = new List<ParsedFamily>();
        string? name = null, help = null, type = null;
        var samples = new List<ParsedSample>();
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length - 1; n++)
        {
            var line = lines[n];
            try
            {
                if (line.StartsWith("# HELP ", StringComparison.Ordinal))
                {
                    if (name is not null) families.Add(new ParsedFamily(name, help!, type ?? throw new FormatException("HELP without TYPE"), samples));
                    var rest = line["# HELP ".Length..];
                    var space = rest.IndexOf(' ');
                    name = rest[..space];
                    if (families.Any(f => f.Name == name)) throw new FormatException($"family {name} appears twice");
                    help = UnescapeHelp(rest[(space + 1)..]);
                    type = null;
                    samples = [];
                }
                else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    if (parts.Length != 4 || parts[2] != name || type is not null || samples.Count > 0)
                        throw new FormatException("TYPE must follow the family's HELP, once, before its samples");
                    type = parts[3] is "counter" or "gauge" or "histogram" or "summary" or "untyped" ? parts[3] : throw new FormatException($"unknown type {parts[3]}");
                }
                else
                {
                    if (name is null || type is null) throw new FormatException("a sample before HELP and TYPE");
                    var sample = ParseSample(line);
                    var allowed = type == "histogram" ? new[] { name + "_bucket", name + "_sum", name + "_count" } : [name];
                    if (!allowed.Contains(sample.Name)) throw new FormatException($"sample {sample.Name} does not belong to {name}");
                    samples.Add(sample);
                }
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or IndexOutOfRangeException)
            {
                throw new FormatException($"line {n + 1} '{line}': {ex.Message}", ex);
            }
        }
        if (name is not null) families.Add(new ParsedFamily(name, help!, type ?? throw new FormatException("HELP without TYPE"), samples));
        return families;
    }

    private static ParsedSample ParseSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
        var name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var label = line[i..eq];
                if (line[eq + 1] != '"') throw new FormatException("a label value must be quoted");
                var value = new StringBuilder();
                var j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] != '\\') { value.Append(line[j]); continue; }
                    j++;
                    value.Append(line[j] switch
                    {
                        '\\' => '\\',
                        '"' => '"',
                        'n' => '\n',
                        var c => throw new FormatException($"unknown escape \\{c}"),
                    });
                }
                if (!labels.TryAdd(label, value.ToString())) throw new FormatException($"label {label} repeats");
                i = j + 1;
                if (line[i] == ',') i++;
                else if (line[i] != '}') throw new FormatException("expected , or } after a label");
            }
            i++;
        }
        if (line[i] != ' ') throw new FormatException("expected a space before the value");
        var text = line[(i + 1)..];
        if (text.Contains(' ')) throw new FormatException("timestamps are not written by this server");
        var number = text switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new ParsedSample(name, labels, number);
    }

    private static string UnescapeHelp(string help)
    {
        var b = new StringBuilder();
        for (var i = 0; i < help.Length; i++)
        {
            if (help[i] != '\\') { b.Append(help[i]); continue; }
            i++;
            b.Append(help[i] switch { '\\' => '\\', 'n' => '\n', var c => throw new FormatException($"unknown escape \\{c} in HELP") });
        }
        return b.ToString();
    }
}
