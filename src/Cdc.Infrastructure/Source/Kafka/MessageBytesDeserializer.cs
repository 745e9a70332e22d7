using System.Buffers;
using Confluent.Kafka;

namespace Cdc.Infrastructure.Source.Kafka;

/// <summary>
/// A Kafka value copied out of librdkafka's buffer (which is freed once <c>Consume</c> returns). A value of at least
/// <see cref="PooledFrom"/> bytes (an Insert's rows) goes into an array rented from <see cref="Pool"/>, which the
/// <see cref="KafkaChannelReader"/> returns once the caller has completed the message; a smaller one (time ticks,
/// deletes, DDL) into an array of its own. Without the pool each 3 MB Insert was a new large-object-heap array, and the
/// GC kept hundreds of MB of them committed between its rare full collections. Arrays are not zeroed first: the copy
/// overwrites every byte the segment covers. A null value is an empty segment.
/// </summary>
internal sealed class MessageBytesDeserializer(ArrayPool<byte> pool) : IDeserializer<ArraySegment<byte>>
{
    /// <summary>Values from this size on are pooled: below the large-object heap's 85,000 bytes the GC copes well.</summary>
    public const int PooledFrom = 64 * 1024;

    public static readonly MessageBytesDeserializer Shared = new(ArrayPool<byte>.Shared);

    public ArrayPool<byte> Pool { get; } = pool;

    public static bool IsPooled(ArraySegment<byte> value) => value.Count >= PooledFrom;

    public ArraySegment<byte> Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (isNull || data.IsEmpty) return ArraySegment<byte>.Empty;
        var bytes = data.Length >= PooledFrom ? Pool.Rent(data.Length) : GC.AllocateUninitializedArray<byte>(data.Length);
        data.CopyTo(bytes);
        return new ArraySegment<byte>(bytes, 0, data.Length);
    }
}
