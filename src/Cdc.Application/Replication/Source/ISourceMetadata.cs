using Cdc.Domain.SourceMeta;

namespace Cdc.Application.Replication.Source;

/// <summary>
/// The source Milvus' databases, collections and partitions, read from its metadata store (etcd, key layout of
/// Milvus 2.3–2.5), as a snapshot and as a feed of typed events.
/// </summary>
public interface ISourceMetadata
{
    /// <summary>Everything the store holds now (every state; tombstoned objects left out), at one store revision.</summary>
    Task<SourceMetadataSnapshot> LoadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What happens after <paramref name="since"/>, in store order. A dropped connection is resumed where it broke.
    /// When the store has compacted the history the feed needs, the store is read again and the differences to what
    /// the feed last reported are emitted (drops first, then creates), so no create or drop is lost; intermediate
    /// states in the compacted gap are not seen. Runs until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    IAsyncEnumerable<SourceMetaEvent> WatchAsync(SourceMetadataSnapshot since, CancellationToken cancellationToken);
}
