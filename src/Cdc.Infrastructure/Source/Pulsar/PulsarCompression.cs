using System.IO.Compression;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using K4os.Compression.LZ4;
using Snappier;
using ZstdSharp;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// The payload codecs of PulsarApi.proto's CompressionType, in the forms Pulsar's clients write them: LZ4 as a raw
/// block, ZLIB as a zlib stream (RFC 1950), ZSTD as a frame, SNAPPY as a raw block. The size after decompression is
/// MessageMetadata.uncompressed_size.
/// </summary>
public static class PulsarCompression
{
    public static byte[] Decompress(CompressionType type, ReadOnlySpan<byte> data, int uncompressedSize)
    {
        if (type == CompressionType.None) return data.ToArray();
        var output = GC.AllocateUninitializedArray<byte>(uncompressedSize);
        DecompressInto(type, data, output);
        return output;
    }

    /// <summary>Decompresses <paramref name="data"/> into all of <paramref name="output"/> (its length is uncompressed_size).</summary>
    public static void DecompressInto(CompressionType type, ReadOnlySpan<byte> data, Span<byte> output)
    {
        var uncompressedSize = output.Length;
        int written;
        try
        {
            written = type switch
            {
                CompressionType.Lz4 => LZ4Codec.Decode(data, output),
                CompressionType.Zlib => Inflate(data, output),
                CompressionType.Zstd => Unzstd(data, output),
                CompressionType.Snappy => Unsnappy(data, output),
                _ => throw new PulsarProtocolException($"compression type {(int)type} is not one of PulsarApi.proto's CompressionType values"),
            };
        }
        catch (Exception e) when (e is not PulsarProtocolException)
        {
            throw new PulsarProtocolException($"cannot decompress the {type.ToString().ToUpperInvariant()} payload: {e.Message}", e);
        }

        if (written != uncompressedSize)
            throw new PulsarProtocolException(
                $"the {type.ToString().ToUpperInvariant()} payload decompresses to {(written < 0 ? "nothing valid" : $"{written} bytes")}, the metadata says uncompressed_size {uncompressedSize}");
    }

    public static byte[] Compress(CompressionType type, ReadOnlySpan<byte> data, int zstdLevel = 1) => type switch
    {
        CompressionType.None => data.ToArray(),
        CompressionType.Lz4 => Lz4(data),
        CompressionType.Zlib => Deflate(data),
        CompressionType.Zstd => Zstd(data, zstdLevel),
        CompressionType.Snappy => Snappy.CompressToArray(data),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a Pulsar compression type"),
    };

    private static int Unzstd(ReadOnlySpan<byte> data, Span<byte> output)
    {
        using var decompressor = new Decompressor();
        return decompressor.Unwrap(data, output);
    }

    private static int Unsnappy(ReadOnlySpan<byte> data, Span<byte> output)
    {
        var length = Snappy.GetUncompressedLength(data);
        return length != output.Length ? length : Snappy.Decompress(data, output);
    }

    private static int Inflate(ReadOnlySpan<byte> data, Span<byte> output)
    {
        using var zlib = new ZLibStream(new MemoryStream(data.ToArray(), writable: false), CompressionMode.Decompress);
        var read = zlib.ReadAtLeast(output, output.Length, throwOnEndOfStream: false);
        // More bytes than the metadata announced is as wrong as fewer.
        return read == output.Length && zlib.ReadByte() >= 0 ? read + 1 : read;
    }

    private static byte[] Lz4(ReadOnlySpan<byte> data)
    {
        var buffer = new byte[LZ4Codec.MaximumOutputSize(data.Length)];
        var length = LZ4Codec.Encode(data, buffer, LZ4Level.L00_FAST);
        return buffer.AsSpan(0, length).ToArray();
    }

    private static byte[] Deflate(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Zstd(ReadOnlySpan<byte> data, int level)
    {
        using var compressor = new Compressor(level);
        return compressor.Wrap(data).ToArray();
    }
}
