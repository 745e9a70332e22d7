using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Ports;

/// <summary>
/// Reads one source channel in order. Disposing it stops the underlying consumer; it never commits positions to
/// the MQ (the CDC server keeps them).
/// </summary>
public interface ISourceChannelReader : IAsyncDisposable
{
    /// <summary>The pchannel this reader reads.</summary>
    string Channel { get; }

    /// <summary>
    /// The messages of the channel, in order, waiting for new ones until <paramref name="cancellationToken"/> is
    /// cancelled or the reader is disposed. A broken connection that the MQ client cannot recover from ends the
    /// sequence with an exception.
    /// </summary>
    IAsyncEnumerable<SourceMessage> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>Bytes of the messages read from the MQ and not yet taken by the caller.</summary>
    long BufferedBytes => 0;

    /// <summary>Messages read from the MQ and not yet taken by the caller.</summary>
    int BufferedMessages => 0;
}
