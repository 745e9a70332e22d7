using System.Buffers.Binary;

namespace Cdc.Infrastructure.Source.Kafka;

/// <summary>Milvus' Kafka message id: the partition offset as 8 bytes, little-endian.</summary>
public static class KafkaMessageId
{
    public const int Length = 8;

    public static byte[] FromOffset(long offset)
    {
        var id = new byte[Length];
        BinaryPrimitives.WriteInt64LittleEndian(id, offset);
        return id;
    }

    public static long ToOffset(ReadOnlySpan<byte> messageId) => messageId.Length == Length
        ? BinaryPrimitives.ReadInt64LittleEndian(messageId)
        : throw new ArgumentException($"a Kafka message id has {Length} bytes, this one has {messageId.Length}", nameof(messageId));
}
