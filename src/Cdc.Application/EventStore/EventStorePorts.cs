namespace Cdc.Application.EventStore;

/// <summary>An event as stored: its global sequence number, its place in its stream and its payload.</summary>
public sealed record RecordedEvent(
    long Sequence,
    Guid Id,
    string StreamId,
    long Version,
    string Type,
    object Data,
    DateTimeOffset Timestamp);

/// <summary>A stream as read: its current version (0 when it does not exist) and its events in order.</summary>
public sealed record EventStream(string StreamId, long Version, bool IsArchived, IReadOnlyList<RecordedEvent> Events)
{
    public bool Exists => Version > 0;
}

/// <summary>
/// Events to append atomically to one stream, valid only if the stream is still at <see cref="ExpectedVersion"/>
/// (0: the stream must not exist yet).
/// </summary>
public sealed record StreamAppend(string StreamId, string StreamType, long ExpectedVersion, IReadOnlyList<object> Events)
{
    /// <summary>Marks the stream archived in the same transaction (its events stay readable for audit).</summary>
    public bool ArchiveStream { get; init; }

    /// <summary>
    /// When set, the append of a new stream is refused once this many live (not archived) streams of the same
    /// type exist in the tenant; checked inside the append's transaction, so concurrent appends cannot overshoot.
    /// </summary>
    public int? LiveStreamLimit { get; init; }
}

/// <summary>Stream kinds of this application.</summary>
public static class StreamTypes
{
    public const string Task = "cdc_task";
    public const string ChannelCheckpoint = "cdc_channel_checkpoint";

    public static string ChannelCheckpointStream(string taskId, string channel) => $"{taskId}/{channel}";
}

/// <summary>The write side: streams read whole and appended with optimistic concurrency.</summary>
public interface IEventStore
{
    Task<EventStream> FetchStreamAsync(string streamId, CancellationToken cancellationToken);

    /// <summary>Appends and returns the stream's new version.</summary>
    /// <exception cref="ConcurrencyConflict">the stream is not at the expected version.</exception>
    /// <exception cref="LiveStreamLimitReached">the live stream limit was reached.</exception>
    /// <exception cref="StreamArchived">the stream is archived and takes no more events.</exception>
    Task<long> AppendAsync(StreamAppend append, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes all but the newest <paramref name="keepLast"/> events of a stream (for streams whose history has no
    /// lasting value, such as checkpoints); the stream's version, and so optimistic concurrency, are unaffected.
    /// Returns the number of events removed.
    /// </summary>
    Task<int> TrimStreamAsync(string streamId, int keepLast, CancellationToken cancellationToken);
}

/// <summary>
/// The global, ordered feed of a tenant's events for subscribers. It never hands out an event while an event with
/// a lower sequence number can still appear (the high-water mark), so a subscriber that resumes after its last
/// sequence never skips one.
/// </summary>
public interface IEventFeed
{
    /// <summary>Events with a sequence above <paramref name="afterSequence"/> and at most the high-water mark.</summary>
    Task<IReadOnlyList<RecordedEvent>> ReadAsync(long afterSequence, int maxCount, CancellationToken cancellationToken);

    /// <summary>The highest sequence below which every event is final (committed, or never to appear).</summary>
    Task<long> HighWaterMarkAsync(CancellationToken cancellationToken);

    /// <summary>Returns when events past <paramref name="afterSequence"/> may exist, or after the timeout.</summary>
    Task WaitForEventsAsync(long afterSequence, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Where a named subscriber keeps the last sequence it has fully handled.</summary>
public interface ISubscriptionCheckpoints
{
    Task<long> LoadAsync(string subscription, CancellationToken cancellationToken);
    Task SaveAsync(string subscription, long sequence, CancellationToken cancellationToken);
}

public sealed class ConcurrencyConflict(string streamId, long expected, long actual)
    : Exception($"the stream {streamId} was changed concurrently (expected version {expected}, found {actual}); read it again and retry")
{
    public string StreamId { get; } = streamId;
    public long Expected { get; } = expected;
    public long Actual { get; } = actual;
}

public sealed class LiveStreamLimitReached(int limit) : Exception($"{limit} live streams exist already")
{
    public int Limit { get; } = limit;
}

public sealed class StreamArchived(string streamId) : Exception($"the stream {streamId} is archived")
{
    public string StreamId { get; } = streamId;
}
