namespace Cdc.Domain.Changes;

/// <summary>Where a message sits in its source queue. The bytes Milvus stores for it are produced in Infrastructure.</summary>
public abstract record SourceMessageId;

/// <summary>A Kafka message: Milvus uses partition 0 of the pchannel topic, so the offset alone locates it.</summary>
public sealed record KafkaOffset(long Offset) : SourceMessageId
{
    public override string ToString() => $"kafka offset {Offset}";
}

/// <summary>A Pulsar message id (ledger, entry, partition, batch index); -1 means "not set" for the last two.</summary>
public sealed record PulsarMessageId(ulong LedgerId, ulong EntryId, int Partition = -1, int BatchIndex = -1) : SourceMessageId
{
    public override string ToString() => $"pulsar {LedgerId}:{EntryId}:{Partition}:{BatchIndex}";
}

/// <summary>An id whose bytes could not be understood; kept verbatim so a position can still be reported.</summary>
public sealed record OpaqueMessageId(byte[] Bytes) : SourceMessageId
{
    public override string ToString() => $"message id 0x{Convert.ToHexString(Bytes)}";

    public bool Equals(OpaqueMessageId? other) => other is not null && Bytes.AsSpan().SequenceEqual(other.Bytes);

    public override int GetHashCode() => Bytes.Length;
}
