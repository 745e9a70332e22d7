namespace Cdc.Application.Replication.Source;

/// <summary>
/// A source channel could not be read. <see cref="IsRetryable"/>: the MQ was unreachable or closed the reader, and
/// reading again later may work; otherwise what it holds cannot be read (a malformed or oversized message, say) and
/// the task must pause with this message, which names the channel and the position.
/// </summary>
public sealed class SourceChannelException(string channel, string message, Exception? innerException = null, bool retryable = true)
    : Exception($"fail to read the source channel {channel}: {message}", innerException)
{
    public string Channel { get; } = channel;

    public bool IsRetryable { get; } = retryable;
}
