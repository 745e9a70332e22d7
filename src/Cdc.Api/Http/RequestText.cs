using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;
using Cdc.Application.Validation;

namespace Cdc.Api.Http;

/// <summary>
/// Checks every string and key of a parsed request before anything reads it: the JSON parser accepts text that is
/// no string at all (invalid UTF-8 bytes, an escaped lone UTF-16 surrogate such as <c>\ud800</c>) and NUL
/// characters (<c>\u0000</c>), which PostgreSQL refuses in text and jsonb. The first such value becomes an
/// <see cref="InvalidRequest"/> naming its field as the other messages do: inside <c>request_data</c> relative to it
/// (<c>milvus_connect_param.uri</c>), outside by its own name (<c>request_type</c>).
/// </summary>
public static class RequestText
{
    public static InvalidRequest? FirstUnreadable(JsonElement envelope)
    {
        if (envelope.ValueKind != JsonValueKind.Object) return Check(envelope, "request");
        foreach (var member in envelope.EnumerateObject())
        {
            if (KeyProblem(member) is { } problem) return new InvalidRequest("request", problem);
            var bad = member.Name.Equals("request_data", StringComparison.OrdinalIgnoreCase) && member.Value.ValueKind == JsonValueKind.Object
                ? CheckMembers(member.Value, "", "request_data")
                : Check(member.Value, member.Name);
            if (bad is not null) return bad;
        }

        return null;
    }

    private static InvalidRequest? Check(JsonElement element, string field)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                return CheckMembers(element, field, field);
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Check(item, $"{field}[{index++}]") is { } bad) return bad;
                }

                return null;
            case JsonValueKind.String:
                return TextProblem(JsonMarshal.GetRawUtf8Value(element), element.GetString) is { } problem
                    ? new InvalidRequest(field, $"the string {problem}")
                    : null;
            default:
                return null;
        }
    }

    /// <param name="element">An object.</param>
    /// <param name="path">The prefix of its members' field names ("" inside request_data).</param>
    /// <param name="field">How the object itself is named, for a key that cannot be read.</param>
    private static InvalidRequest? CheckMembers(JsonElement element, string path, string field)
    {
        foreach (var member in element.EnumerateObject())
        {
            if (KeyProblem(member) is { } problem) return new InvalidRequest(field, problem);
            if (Check(member.Value, path.Length == 0 ? member.Name : $"{path}.{member.Name}") is { } bad) return bad;
        }

        return null;
    }

    private static string? KeyProblem(JsonProperty member) =>
        TextProblem(JsonMarshal.GetRawUtf8PropertyName(member), () => member.Name) is { } problem ? $"a key {problem}" : null;

    private static string? TextProblem(ReadOnlySpan<byte> raw, Func<string?> read)
    {
        string? text;
        try
        {
            text = read();
        }
        catch (InvalidOperationException)
        {
            // The parser keeps the raw bytes: either they are not UTF-8, or an escape decodes to half a surrogate pair.
            return Utf8.IsValid(raw)
                ? "holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which is no text"
                : "holds bytes that are not valid UTF-8";
        }

        return text is not null && text.Contains('\0') ? "holds a NUL character (\\u0000), which is not allowed" : null;
    }
}
