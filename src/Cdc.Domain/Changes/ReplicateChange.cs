namespace Cdc.Domain.Changes;

/// <summary>A Replicate (1212) marker written by a replicator with a replicate id (Milvus 2.4+).</summary>
public sealed record ReplicateChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    bool IsEnd,
    bool IsCluster,
    string Database,
    string Collection) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.Replicate;
}
