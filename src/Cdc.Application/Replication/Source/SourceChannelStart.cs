using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Source;

/// <summary>Where a new source channel reader begins.</summary>
public abstract record SourceChannelStart
{
    private SourceChannelStart() { }

    /// <summary>Only messages written after the reader was opened (a new task).</summary>
    public static SourceChannelStart Latest { get; } = new LatestStart();

    /// <summary>The message after <paramref name="position"/> (a resumed task: exclusive seek to its checkpoint).</summary>
    public static SourceChannelStart After(SourcePosition position) => new AfterPosition(position);

    /// <summary>The earliest message the source's message queue still holds on the channel.</summary>
    public static SourceChannelStart Earliest { get; } = new EarliestStart();

    /// <summary>
    /// The first message of <paramref name="time"/> or later. A queue may seek only near it (by the time it stored each
    /// message): the reader may begin earlier, and the reading stage drops every message older than
    /// <paramref name="time"/> by its Milvus timestamp.
    /// </summary>
    public static SourceChannelStart AtTime(DateTimeOffset time) => new AtTimeStart(time);

    public sealed record LatestStart : SourceChannelStart;

    public sealed record AfterPosition(SourcePosition Position) : SourceChannelStart;

    public sealed record EarliestStart : SourceChannelStart;

    public sealed record AtTimeStart(DateTimeOffset Time) : SourceChannelStart
    {
        /// <summary>The Milvus hybrid timestamp of the time's first instant (logical 0).</summary>
        public HybridTimestamp Timestamp => HybridTimestamp.FromTime(Time);
    }
}
