using System.Text;
using System.Text.Json.Nodes;
using Cdc.Application.Replication.Ports;

namespace Cdc.Infrastructure.Etcd;

/// <summary>
/// The JSON gateway's encoding: keys and values are base64, int64 values are strings, fields at their default
/// value (0, false, empty) are left out.
/// </summary>
internal static class EtcdWire
{
    public static string Base64(byte[] bytes) => Convert.ToBase64String(bytes);

    public static string Base64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes);

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public static byte[] Bytes(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
            ? Convert.FromBase64String(text)
            : [];

    /// <summary>An int64 that may come as a JSON string (the usual case), a number, or be missing (0).</summary>
    public static long Int64(JsonNode? node)
    {
        if (node is not JsonValue value) return 0;
        if (value.TryGetValue<string>(out var text)) return long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        return value.TryGetValue<long>(out var number) ? number : 0;
    }

    public static bool Bool(JsonNode? node) => node is JsonValue value && value.TryGetValue<bool>(out var b) && b;

    /// <summary>A <c>mvccpb.KeyValue</c> object.</summary>
    public static MetaEntry Entry(JsonNode kv) => new(
        Encoding.UTF8.GetString(Bytes(kv["key"])),
        Bytes(kv["value"]),
        Int64(kv["create_revision"]),
        Int64(kv["mod_revision"]),
        Int64(kv["version"]));

    /// <summary>The store revision in a response header.</summary>
    public static long HeaderRevision(JsonNode response) => Int64(response["header"]?["revision"]);
}
