using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Ports;

/// <summary>
/// Produces the bytes to forward to the target for a DML-channel change (Insert, Delete, DropCollection,
/// DropPartition): the change's raw payload with target ids, shard, names and timestamps applied.
/// </summary>
public interface IDmlMessageRewriter
{
    /// <exception cref="NotSupportedException">The change is not one that travels through ReplicateMessage.</exception>
    ReadOnlyMemory<byte> Rewrite(SourceChange change, DmlRewrite rewrite);
}
