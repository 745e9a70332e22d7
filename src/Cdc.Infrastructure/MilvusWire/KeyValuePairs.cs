using KeyValuePair = Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair;

namespace Cdc.Infrastructure.MilvusWire;

/// <summary>Milvus' repeated KeyValuePair lists (properties, type and index params) to and from dictionaries.</summary>
internal static class KeyValuePairs
{
    /// <summary>The pairs as a dictionary; a repeated key keeps its last value, as Milvus reads them.</summary>
    public static Dictionary<string, string> ToDictionary(IEnumerable<KeyValuePair> pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs) result[pair.Key] = pair.Value;
        return result;
    }

    public static IEnumerable<KeyValuePair> From(IReadOnlyDictionary<string, string> values) =>
        values.Select(pair => new KeyValuePair { Key = pair.Key, Value = pair.Value });
}
