namespace Cdc.Application.Replication.Source;

/// <summary>Where a new source channel reader begins.</summary>
public abstract record SourceChannelStart
{
    private SourceChannelStart() { }

    /// <summary>Only messages written after the reader was opened (a new task).</summary>
    public static SourceChannelStart Latest { get; } = new LatestStart();

    /// <summary>The message after <paramref name="position"/> (a resumed task: exclusive seek to its checkpoint).</summary>
    public static SourceChannelStart After(SourcePosition position) => new AfterPosition(position);

    public sealed record LatestStart : SourceChannelStart;

    public sealed record AfterPosition(SourcePosition Position) : SourceChannelStart;
}
