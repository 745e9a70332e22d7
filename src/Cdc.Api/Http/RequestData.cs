using System.Text.Json;
using Cdc.Application.Validation;

namespace Cdc.Api.Http;

/// <summary>
/// Typed reading of a JSON object of <c>request_data</c>. Keys match exactly, else case-insensitively (as the
/// reference's decoder does); unknown keys are ignored; <c>null</c> counts as absent. A value of the wrong JSON
/// type is an <see cref="InvalidRequest"/> that names the field by its path.
/// </summary>
public readonly struct RequestData(JsonElement element, string path)
{
    public string Path => path;

    public static RequestData Empty => new(default, "");

    public bool IsPresent => element.ValueKind == JsonValueKind.Object;

    public string? String(string name) => Get(name, out var v, out var field)
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(field, "a string", v)
        : null;

    public int Int(string name, int fallback = 0)
    {
        if (!Get(name, out var v, out var field)) return fallback;
        if (v.ValueKind != JsonValueKind.Number) throw Wrong(field, "a whole number", v);
        if (v.TryGetInt32(out var i)) return i;
        // Like the reference's decoder, a fractional number is truncated; one out of range is refused.
        return v.TryGetDouble(out var d) && double.IsFinite(d) && Math.Abs(d) < int.MaxValue
            ? (int)Math.Truncate(d)
            : throw new InvalidRequest(field, $"the number {v.GetRawText()} is out of range");
    }

    public bool Bool(string name) => Get(name, out var v, out var field)
        ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(field, "true or false", v),
        }
        : false;

    public RequestData Object(string name) => Get(name, out var v, out var field)
        ? v.ValueKind == JsonValueKind.Object ? new RequestData(v, field) : throw Wrong(field, "an object", v)
        : new RequestData(default, field);

    public IReadOnlyList<RequestData>? Array(string name)
    {
        if (!Get(name, out var v, out var field)) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(field, "an array", v);
        return v.EnumerateArray().Select((item, i) => item.ValueKind == JsonValueKind.Object
            ? new RequestData(item, $"{field}[{i}]")
            : throw Wrong($"{field}[{i}]", "an object", item)).ToList();
    }

    /// <summary>A JSON object used as a map (e.g. <c>db_collections</c>), its values read by <paramref name="read"/>.</summary>
    public IReadOnlyDictionary<string, T>? Map<T>(string name, Func<JsonElement, string, T> read)
    {
        if (!Get(name, out var v, out var field)) return null;
        if (v.ValueKind != JsonValueKind.Object) throw Wrong(field, "an object", v);
        return v.EnumerateObject().ToDictionary(p => p.Name, p => read(p.Value, $"{field}.{p.Name}"));
    }

    public IReadOnlyDictionary<string, string>? StringMap(string name) =>
        Map(name, (v, field) => v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Wrong(field, "a string", v));

    private bool Get(string name, out JsonElement value, out string field)
    {
        field = path.Length == 0 ? name : $"{path}.{name}";
        value = default;
        if (element.ValueKind != JsonValueKind.Object) return false;
        if (!element.TryGetProperty(name, out value))
        {
            var match = element.EnumerateObject().FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (match.Value.ValueKind == JsonValueKind.Undefined) return false;
            value = match.Value;
        }
        return value.ValueKind != JsonValueKind.Null;
    }

    internal static InvalidRequest Wrong(string field, string expected, JsonElement got) =>
        new(field, $"expected {expected}, got {Describe(got)}");

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
