using System.Buffers;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// Produces the bytes to forward to the target for a DML-channel change (Insert, Delete, DropCollection,
/// DropPartition): the change's raw payload with target ids, shard, names and timestamps applied. The result may be in
/// several segments, some of them slices of the change's payload (a 3 MB Insert's columns are not copied), so the
/// payload must not change while the result is in use.
/// </summary>
public interface IDmlMessageRewriter
{
    /// <exception cref="NotSupportedException">The change is not one that travels through ReplicateMessage.</exception>
    ReadOnlySequence<byte> Rewrite(SourceChange change, DmlRewrite rewrite);
}
