namespace Cdc.Domain.Changes;

/// <summary>
/// Where a change came from and the MsgBase facts every Milvus message carries.
/// <paramref name="VirtualChannel"/> is the 2.5 "vchannel" property, or the shard name of a DML message, or null.
/// </summary>
public sealed record ChangeOrigin(
    string Channel,
    SourceMessageId Id,
    string? VirtualChannel,
    HybridTimestamp Timestamp,
    long MsgId,
    long SourceId,
    bool IsReplicated,
    string ReplicateId)
{
    public string Describe() => $"channel '{Channel}' at {Id}";
}
