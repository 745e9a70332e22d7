namespace Cdc.Domain.Changes;

/// <summary>
/// A decoded Milvus message. <see cref="Payload"/> is the message's protobuf exactly as read, so the writer
/// can forward it (after the id/timestamp rewrite) without re-encoding what it does not understand.
/// </summary>
public abstract record SourceChange(ChangeOrigin Origin, ReadOnlyMemory<byte> Payload)
{
    public abstract ChangeKind Kind { get; }

    public HybridTimestamp Timestamp => Origin.Timestamp;
}
