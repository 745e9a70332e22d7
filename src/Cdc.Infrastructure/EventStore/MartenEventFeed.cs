using Cdc.Application.EventStore;
using JasperFx.Events;
using Marten;
using Marten.Events.Archiving;
using Marten.Linq;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// The tenant's events in global sequence order, for the audit queries. Appends are not serialised, so a transaction
/// can commit after a later sequence number became visible: the feed stops before such a gap (the high-water mark)
/// until it is filled, or until it is older than <see cref="GapTimeout"/> (a transaction that never committed;
/// Marten also writes tombstone events for the sequence numbers of appends that failed). Marten's own "tombstone"
/// events are left out of the answer.
/// </summary>
public sealed class MartenEventFeed(IDocumentStore store, EventStoreOptions options, TimeProvider clock, TimeSpan? gapTimeout = null) : IEventFeed
{
    private const string Tombstone = "tombstone";

    /// <summary>How long a gap in the sequence may still be filled by a transaction that commits late.</summary>
    public static readonly TimeSpan DefaultGapTimeout = TimeSpan.FromSeconds(5);

    public TimeSpan GapTimeout { get; } = gapTimeout ?? DefaultGapTimeout;

    public async Task<IReadOnlyList<RecordedEvent>> ReadAsync(long afterSequence, int maxCount, CancellationToken cancellationToken)
    {
        var (events, _) = await ReadSafelyAsync(afterSequence, maxCount, cancellationToken);
        return events;
    }

    public async Task<long> HighWaterMarkAsync(CancellationToken cancellationToken)
    {
        var position = 0L;
        while (true)
        {
            var (_, reached) = await ReadSafelyAsync(position, 1000, cancellationToken);
            if (reached == position) return position;
            position = reached;
        }
    }

    /// <summary>Up to <paramref name="maxCount"/> events after a sequence, and the last sequence known final.</summary>
    private async Task<(List<RecordedEvent> Events, long Reached)> ReadSafelyAsync(long after, int maxCount, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession(options.Tenant);
        // Every tenant's events take numbers from one sequence: the gap test looks at all of them.
        var sequences = await session.Events.QueryAllRawEvents()
            .Where(e => e.Sequence > after && e.AnyTenant() && e.MaybeArchived())
            .OrderBy(e => e.Sequence).Take(maxCount * 4 + 16)
            .ToListAsync(cancellationToken);
        var reached = after;
        var now = clock.GetUtcNow();
        foreach (var e in sequences)
        {
            if (e.Sequence != reached + 1 && now - e.Timestamp < GapTimeout) break;
            reached = e.Sequence;
        }

        if (reached == after) return ([], after);
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.Sequence > after && e.Sequence <= reached && e.EventTypeName != Tombstone)
            .OrderBy(e => e.Sequence).Take(maxCount)
            .ToListAsync(cancellationToken);
        if (events.Count == maxCount) reached = events[^1].Sequence;
        return (events.Select(MartenEventStore.ToRecorded).ToList(), reached);
    }
}
