namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>
/// Milvus marks a removed metadata key by overwriting it with the 3 bytes E2 9B BC (UTF-8 of U+26FC,
/// base64 <c>4pu8</c>) instead of deleting it.
/// </summary>
public static class MetaTombstone
{
    private static ReadOnlySpan<byte> Marker => [0xE2, 0x9B, 0xBC];

    /// <summary>The tombstone bytes (a fresh copy).</summary>
    public static byte[] ToArray() => Marker.ToArray();

    /// <summary>True when <paramref name="value"/> is exactly the tombstone.</summary>
    public static bool Is(ReadOnlySpan<byte> value) => value.SequenceEqual(Marker);
}
