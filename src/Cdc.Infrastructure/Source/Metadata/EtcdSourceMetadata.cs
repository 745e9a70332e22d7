using System.Runtime.CompilerServices;
using Cdc.Application.Replication.Source;
using Cdc.Domain.SourceMeta;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Source.Metadata;

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

            var live = mirror;
            var compacted = false;
            var batch = new List<MetaChange>();
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var changes = store.WatchAsync(layout.RootCoordPrefix, revision + 1, includePreviousValue: false, watching.Token)
                .GetAsyncEnumerator(watching.Token);
            Task<bool>? move = null;
            try
            {
                move = changes.MoveNextAsync().AsTask();
                while (true)
                {
                    // The changes of one revision (one etcd transaction) arrive together: once the feed has to wait
                    // for more, the revision is complete and is applied as a whole.
                    if (batch.Count > 0 && !move.IsCompleted)
                    {
                        foreach (var happened in ApplyRevision(live, reported, batch)) yield return happened;
                        revision = batch[0].ModRevision;
                        batch.Clear();
                    }

                    bool more;
                    try
                    {
                        more = await move;
                    }
                    catch (MetaHistoryCompactedException e)
                    {
                        _logger.LogWarning("source metadata watch lost its history after revision {Revision} ({Message}); rescanning", revision, e.Message);
                        compacted = true;
                        more = false;
                    }
                    move = null;
                    if (!more) break;

                    var change = changes.Current;
                    if (batch.Count > 0 && batch[0].ModRevision != change.ModRevision)
                    {
                        foreach (var happened in ApplyRevision(live, reported, batch)) yield return happened;
                        revision = batch[0].ModRevision;
                        batch.Clear();
                    }
                    batch.Add(change);
                    move = changes.MoveNextAsync().AsTask();
                }

                // Each watch answer holds whole revisions, so what was read before the feed ended is complete.
                if (batch.Count > 0 && !compacted)
                {
                    foreach (var happened in ApplyRevision(live, reported, batch)) yield return happened;
                    revision = batch[0].ModRevision;
                }
            }
            finally
            {
                // A read may still be pending when the consumer stops: end it before the watch is disposed.
                await watching.CancelAsync();
                if (move is not null)
                {
                    try
                    {
                        await move;
                    }
                    catch (Exception)
                    {
                        // ended by the cancellation above, or failed: the watch is being left either way
                    }
                }
                await changes.DisposeAsync();
            }

            if (!compacted) yield break; // the store ended the feed
            mirror = null;
        }
    }

    /// <summary>
    /// Applies the changes of one store revision to the mirror, then reports what they mean for each object they
    /// touched, in the order the objects were first touched. An etcd transaction can write a collection's new key and
    /// tombstone its old one in any order; taken as a whole, that is a move, not a drop and a create.
    /// </summary>
    private static List<SourceMetaEvent> ApplyRevision(SourceMetaMirror mirror, SourceMetaView reported, List<MetaChange> changes)
    {
        var touched = new List<SourceMetaKey>();
        foreach (var change in changes)
        {
            if (mirror.Apply(change.Key, change.Value) is { } key) touched.Add(key);
        }

        var revision = changes[0].ModRevision;
        var events = new List<SourceMetaEvent>();
        var done = new HashSet<(SourceMetaKeyKind, long)>();
        var schemaChanged = new List<long>();
        foreach (var key in touched)
        {
            if (key.Kind is SourceMetaKeyKind.Field or SourceMetaKeyKind.Function)
            {
                schemaChanged.Add(key.ParentId);
                continue;
            }
            if (!done.Add((key.Kind, key.Id))) continue;
            if (Transition(mirror, reported, key, revision) is { } happened) events.Add(happened);
        }
        // A field or function change alone produces no event, but the reported form of its collection stays current.
        foreach (var collectionId in schemaChanged)
        {
            if (done.Add((SourceMetaKeyKind.Collection, collectionId)) && reported.Collection(collectionId) is not null)
                reported.Set(collectionId, mirror.Collection(collectionId));
        }
        return events;
    }

    /// <summary>Moves the reported form of one database, collection or partition to the mirror's; returns the event it means.</summary>
    private static SourceMetaEvent? Transition(SourceMetaMirror mirror, SourceMetaView reported, SourceMetaKey key, long revision)
    {
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
                return null;
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
