using System.Buffers;
using Confluent.Kafka;

namespace Cdc.Infrastructure.Source.Kafka;

/// <summary>
/// A Kafka value copied out of librdkafka's buffer (which is freed once <c>Consume</c> returns) into an array of
/// <see cref="MessageArrays"/>: a large one rented from <see cref="Pool"/>, which the <see cref="KafkaChannelReader"/>
/// returns once the caller has completed the message. A null value is an empty segment.
/// </summary>
internal sealed class MessageBytesDeserializer(ArrayPool<byte> pool) : IDeserializer<ArraySegment<byte>>
{
    public static readonly MessageBytesDeserializer Shared = new(ArrayPool<byte>.Shared);

    public ArrayPool<byte> Pool { get; } = pool;

    public static bool IsPooled(ArraySegment<byte> value) => MessageArrays.IsPooled(value.Count);

    public ArraySegment<byte> Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (isNull || data.IsEmpty) return ArraySegment<byte>.Empty;
        var bytes = MessageArrays.Take(data.Length, Pool);
        data.CopyTo(bytes);
        return new ArraySegment<byte>(bytes, 0, data.Length);
    }
}
