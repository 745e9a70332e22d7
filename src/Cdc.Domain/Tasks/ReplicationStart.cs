namespace Cdc.Domain.Tasks;

/// <summary>Where a task's channels without a checkpoint start (the create request's <c>start_from</c>).</summary>
public enum ReplicationStartKind
{
    /// <summary>At the latest message: only what happens after the task started (the reference's behaviour).</summary>
    Latest,

    /// <summary>At the earliest message the source's message queue still holds.</summary>
    Earliest,

    /// <summary>At the first message of the given time.</summary>
    Time,
}

/// <summary>
/// Where a new task starts reading channels that have no checkpoint: <c>"latest"</c> (the default), <c>"earliest"</c>, or
/// a time (RFC 3339, e.g. <c>2026-12-04T10:00:00Z</c>): the changes from that time on are replicated. Per-collection
/// start positions and <c>use_start_position</c> take precedence for their collections' channels.
/// </summary>
public sealed record ReplicationStart(ReplicationStartKind Kind, DateTimeOffset? Time = null)
{
    public static ReplicationStart Latest { get; } = new(ReplicationStartKind.Latest);

    public static ReplicationStart Earliest { get; } = new(ReplicationStartKind.Earliest);

    public static ReplicationStart At(DateTimeOffset time) => new(ReplicationStartKind.Time, time);

    /// <summary>The create request's spelling: <c>latest</c>, <c>earliest</c> or the time.</summary>
    public override string ToString() => Kind switch
    {
        ReplicationStartKind.Time => Time!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture),
        _ => Kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Reads the create request's spelling; null when it is none of them.</summary>
    public static ReplicationStart? Parse(string text) => text switch
    {
        "latest" => Latest,
        "earliest" => Earliest,
        _ => DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var time) && text.Contains('T', StringComparison.Ordinal)
            ? At(time.ToUniversalTime())
            : null,
    };
}
