namespace Cdc.Domain.Changes;

/// <summary>
/// One message as read from a source physical channel: its queue position, its Kafka headers or Pulsar
/// properties, and the protobuf payload exactly as Milvus wrote it.
/// </summary>
public sealed record SourceMessage(
    string Channel,
    SourceMessageId Id,
    IReadOnlyDictionary<string, string> Properties,
    ReadOnlyMemory<byte> Payload)
{
    public string Describe() => $"channel '{Channel}' at {Id}";
}
