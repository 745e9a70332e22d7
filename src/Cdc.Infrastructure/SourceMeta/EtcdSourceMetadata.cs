using System.Runtime.CompilerServices;
using Cdc.Application.Replication.Ports;
using Cdc.Domain.SourceMeta;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.SourceMeta;

/// <summary>
/// The source's databases, collections and partitions from its etcd, in the Milvus 2.3–2.5 key layout
/// (<see cref="SourceMetaLayout"/>). One prefix, <c>P/root-coord/</c>, is read and watched, so every change arrives
/// in store order on one feed: the field and function keys a collection's schema is rebuilt from are seen before the
/// collection reaches the created state. Schema changes of a created collection produce no event.
/// </summary>
public sealed class EtcdSourceMetadata(ISourceMetaStore store, SourceMetaLayout layout, ILogger<EtcdSourceMetadata>? logger = null)
    : ISourceMetadata
{
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    public async Task<SourceMetadataSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        var (mirror, revision) = await ReadAsync(0, cancellationToken);
        return mirror.ToView().ToSnapshot(revision);
    }

    public async IAsyncEnumerable<SourceMetaEvent> WatchAsync(
        SourceMetadataSnapshot since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reported = SourceMetaView.From(since);
        SourceMetaMirror? mirror = null;
        var revision = since.Revision;
        try
        {
            (mirror, _) = await ReadAsync(since.Revision, cancellationToken);
        }
        catch (MetaHistoryCompactedException e)
        {
            _logger.LogWarning("source metadata history at revision {Revision} is compacted ({Message}); rescanning", since.Revision, e.Message);
        }

        while (true)
        {
            if (mirror is null)
            {
                (mirror, revision) = await ReadAsync(0, cancellationToken);
                var current = mirror.ToView();
                foreach (var missed in SourceMetaTransitions.Between(reported, current, revision))
                {
                    yield return missed;
                }
                reported = current;
            }

            await using var changes = store.WatchAsync(layout.RootCoordPrefix, revision + 1, includePreviousValue: false, cancellationToken)
                .GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                try
                {
                    if (!await changes.MoveNextAsync()) yield break;
                }
                catch (MetaHistoryCompactedException e)
                {
                    _logger.LogWarning("source metadata watch lost its history after revision {Revision} ({Message}); rescanning", revision, e.Message);
                    mirror = null;
                    break;
                }

                var change = changes.Current;
                revision = change.ModRevision;
                if (Apply(mirror, reported, change) is { } happened) yield return happened;
            }
        }
    }

    /// <summary>Applies one change to the mirror and the reported view; returns the event it means, if any.</summary>
    private static SourceMetaEvent? Apply(SourceMetaMirror mirror, SourceMetaView reported, MetaChange change)
    {
        if (mirror.Apply(change.Key, change.Value) is not { } key) return null;
        var revision = change.ModRevision;
        switch (key.Kind)
        {
            case SourceMetaKeyKind.Database:
            {
                var before = reported.Database(key.Id);
                var after = mirror.Database(key.Id);
                reported.Set(key.Id, after);
                return SourceMetaTransitions.OfDatabase(before, after, revision);
            }
            case SourceMetaKeyKind.Collection:
            {
                var before = reported.Collection(key.Id);
                var after = mirror.Collection(key.Id);
                reported.Set(key.Id, after);
                return SourceMetaTransitions.OfCollection(before, after, revision);
            }
            case SourceMetaKeyKind.Partition:
            {
                var before = reported.Partition(key.Id);
                var after = mirror.Partition(key.Id);
                reported.Set(key.Id, after);
                var collectionId = (after ?? before)?.CollectionId ?? key.ParentId;
                return SourceMetaTransitions.OfPartition(before, after, mirror.Collection(collectionId), revision);
            }
            default:
            {
                // A field or function: the collection's schema changed; no event, but keep the reported form current.
                if (reported.Collection(key.ParentId) is not null) reported.Set(key.ParentId, mirror.Collection(key.ParentId));
                return null;
            }
        }
    }

    private async Task<(SourceMetaMirror Mirror, long Revision)> ReadAsync(long revision, CancellationToken cancellationToken)
    {
        var snapshot = await store.RangeAsync(layout.RootCoordPrefix, revision, cancellationToken);
        var mirror = new SourceMetaMirror(layout, _logger);
        foreach (var entry in snapshot.Entries)
        {
            mirror.Apply(entry.Key, entry.Value);
        }
        return (mirror, snapshot.Revision);
    }
}
