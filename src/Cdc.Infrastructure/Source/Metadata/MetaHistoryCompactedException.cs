namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>
/// A watch asked for history the store has already compacted away. The caller must take a fresh
/// <see cref="ISourceMetaStore.RangeAsync"/> snapshot and watch again from its revision + 1.
/// </summary>
public sealed class MetaHistoryCompactedException(long requestedRevision, long compactRevision)
    : Exception($"the metadata history before revision {compactRevision} is compacted; revision {requestedRevision} " +
                "cannot be watched any more: rescan and watch from the snapshot's revision")
{
    /// <summary>The revision the watch tried to start (or resume) from.</summary>
    public long RequestedRevision { get; } = requestedRevision;

    /// <summary>The oldest revision the store still has history for (0 when the store did not say).</summary>
    public long CompactRevision { get; } = compactRevision;
}
