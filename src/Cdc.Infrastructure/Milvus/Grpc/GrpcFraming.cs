using System.Buffers.Binary;
using Google.Protobuf;

namespace Cdc.Infrastructure.Milvus.Grpc;

/// <summary>
/// gRPC length-prefixed messages: 1 byte compressed flag, 4 bytes big-endian length, then the protobuf bytes.
/// Compression is never negotiated here, so a compressed frame is a protocol error.
/// </summary>
public static class GrpcFraming
{
    public const int PrefixLength = 5;

    public const string ContentType = "application/grpc";

    /// <summary>Largest message accepted (Milvus' own default receive limit is far above typical packs).</summary>
    public const int MaxMessageLength = 512 * 1024 * 1024;

    /// <summary>One whole frame in one array (small messages; large requests go by <see cref="GrpcRequestContent"/>).</summary>
    public static byte[] Frame(IMessage message)
    {
        var length = message.CalculateSize();
        // Every byte is written below: no need to zero the buffer first.
        var buffer = GC.AllocateUninitializedArray<byte>(PrefixLength + length);
        WritePrefix(buffer, length);
        message.WriteTo(buffer.AsSpan(PrefixLength));
        return buffer;
    }

    /// <summary>The 5-byte prefix of an uncompressed message of <paramref name="length"/> bytes.</summary>
    public static void WritePrefix(Span<byte> destination, long length)
    {
        destination[0] = 0; // not compressed
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..PrefixLength], checked((uint)length));
    }

    /// <summary>Reads one message; null when the stream ends cleanly before a frame starts.</summary>
    public static async Task<byte[]?> ReadMessageAsync(Stream stream, CancellationToken cancellationToken)
    {
        var prefix = new byte[PrefixLength];
        var read = await ReadAtLeastAsync(stream, prefix, cancellationToken);
        if (read == 0)
        {
            return null;
        }

        if (read < PrefixLength)
        {
            throw new InvalidDataException("gRPC frame prefix is truncated");
        }

        if (prefix[0] != 0)
        {
            throw new InvalidDataException("gRPC frame is compressed, but no compression was negotiated");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1));
        if (length > MaxMessageLength)
        {
            throw new InvalidDataException($"gRPC message of {length} bytes exceeds the limit of {MaxMessageLength}");
        }

        var message = new byte[length];
        if (await ReadAtLeastAsync(stream, message, cancellationToken) < length)
        {
            throw new InvalidDataException("gRPC message is truncated");
        }

        return message;
    }

    private static async Task<int> ReadAtLeastAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken) =>
        buffer.Length == 0
            ? 0
            : await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
}
