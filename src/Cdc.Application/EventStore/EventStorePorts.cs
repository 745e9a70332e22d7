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
public sealed record EventStream(string StreamId, long Version, IReadOnlyList<RecordedEvent> Events)
{
    public bool Exists => Version > 0;
}

/// <summary>
/// Events to append atomically to one stream, valid only if the stream is still at <see cref="ExpectedVersion"/>
/// (0: the stream must not exist yet).
/// </summary>
public sealed record StreamAppend(string StreamId, string StreamType, long ExpectedVersion, IReadOnlyList<object> Events)
{
    /// <summary>
    /// When set, the start of a new task stream is refused once this many live (not deleted) tasks exist in the
    /// tenant; checked inside the append's transaction, so concurrent creates cannot overshoot.
    /// </summary>
    public int? LiveStreamLimit { get; init; }
}

/// <summary>Stream kinds of this application.</summary>
public static class StreamTypes
{
    public const string Task = "cdc_task";
    public const string ChannelCheckpoint = "cdc_channel_checkpoint";
    public const string TargetTime = "cdc_target_time";

    public static string ChannelCheckpointStream(string taskId, string channel) => $"{taskId}/{channel}";

    /// <summary>
    /// The stream of a task's time reservations on one target pchannel. "/target/" cannot clash with a checkpoint
    /// stream: a source channel (a Kafka topic or a Milvus pchannel name) holds no '/'.
    /// </summary>
    public static string TargetTimeStream(string taskId, string targetChannel) => $"{taskId}/target/{targetChannel}";
}

/// <summary>The write side: streams read whole and appended with optimistic concurrency.</summary>
public interface IEventStore
{
    Task<EventStream> FetchStreamAsync(string streamId, CancellationToken cancellationToken);

    /// <summary>Appends and returns the stream's new version.</summary>
    /// <exception cref="ConcurrencyConflict">the stream is not at the expected version.</exception>
    /// <exception cref="LiveStreamLimitReached">the live stream limit was reached.</exception>
    Task<long> AppendAsync(StreamAppend append, CancellationToken cancellationToken);

    /// <summary>
    /// Folds all but the newest <paramref name="keepLast"/> events of a checkpoint or target time stream
    /// (<paramref name="streamType"/>: <see cref="StreamTypes.ChannelCheckpoint"/> or <see cref="StreamTypes.TargetTime"/>)
    /// into one snapshot event (neither has a lasting history); the stream's version, and so optimistic concurrency, are
    /// unaffected.
    /// </summary>
    Task TrimStreamAsync(string streamId, string streamType, int keepLast, CancellationToken cancellationToken);
}

/// <summary>
/// The global, ordered feed of a tenant's events for audit queries. It hands out no event while an event with a lower
/// sequence number may still appear (the high-water mark), so a reader that continues after the last sequence it got
/// does not skip one.
/// </summary>
public interface IEventFeed
{
    /// <summary>Events with a sequence above <paramref name="afterSequence"/> and at most the high-water mark.</summary>
    Task<IReadOnlyList<RecordedEvent>> ReadAsync(long afterSequence, int maxCount, CancellationToken cancellationToken);

    /// <summary>The highest sequence below which every event is final (committed, or never to appear).</summary>
    Task<long> HighWaterMarkAsync(CancellationToken cancellationToken);
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
