namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>Read access to the source Milvus' metadata store (etcd): snapshots and a change feed.</summary>
public interface ISourceMetaStore
{
    /// <summary>
    /// Every key starting with <paramref name="prefix"/>, in key order, as of <paramref name="revision"/>
    /// (0: the current revision). Large ranges are read page by page at one fixed revision. A revision the store has
    /// compacted away fails with <see cref="MetaHistoryCompactedException"/>.
    /// </summary>
    Task<MetaSnapshot> RangeAsync(string prefix, long revision, CancellationToken cancellationToken);

    /// <summary>The current value of one key, or null when it does not exist.</summary>
    Task<MetaEntry?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Changes to keys starting with <paramref name="prefix"/>, from <paramref name="startRevision"/> on
    /// (0: only changes after the watch was created), in revision order. A dropped connection is resumed from the
    /// last seen revision + 1, so no change is missed or repeated. History that is compacted away ends the sequence
    /// with <see cref="MetaHistoryCompactedException"/>. Runs until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    IAsyncEnumerable<MetaChange> WatchAsync(
        string prefix, long startRevision, bool includePreviousValue, CancellationToken cancellationToken);
}
