namespace Cdc.Application.Replication.Source;

/// <summary>A source channel could not be read (the MQ client gave up, or a message could not be fetched).</summary>
public sealed class SourceChannelException(string channel, string message, Exception? innerException = null)
    : Exception($"fail to read the source channel {channel}: {message}", innerException)
{
    public string Channel { get; } = channel;
}
