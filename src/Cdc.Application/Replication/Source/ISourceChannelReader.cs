using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Source;

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

    /// <summary>
    /// For a reader opened at the latest message: the position just before the first message it reads (an exclusive
    /// seek there reads the same messages). Null when the reader was opened at a position, or when it cannot tell.
    /// </summary>
    SourcePosition? StartsAfter => null;

    /// <summary>
    /// The caller is done with the messages up to and including <paramref name="completed"/> (applied on the target, or
    /// not to be replicated) and holds none of their payloads: a reader that lends pooled buffers may reuse theirs.
    /// </summary>
    void Completed(SourcePosition completed)
    {
    }

    /// <summary>Bytes of the messages read from the MQ and not yet taken by the caller.</summary>
    long BufferedBytes => 0;

    /// <summary>Messages read from the MQ and not yet taken by the caller.</summary>
    int BufferedMessages => 0;

    /// <summary>
    /// Asks the MQ, at the time of the call, for the newest message the channel holds: every message written before the
    /// call is at or before the answer (a value cached from earlier fetches would not promise that). Null when the
    /// channel holds no message. A reader that cannot ask throws <see cref="NotSupportedException"/>.
    /// </summary>
    /// <exception cref="SourceChannelException">The MQ did not answer.</exception>
    Task<SourcePosition?> NewestAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException($"the reader of {Channel} cannot ask for the channel's newest message");

    /// <summary>
    /// Whether a reader done with <paramref name="completed"/> (that message and all before it) has nothing left to
    /// read up to <paramref name="newest"/>, by the MQ's order of message ids.
    /// </summary>
    bool Reached(SourcePosition completed, SourcePosition newest) =>
        throw new NotSupportedException($"the reader of {Channel} cannot order positions");
}
