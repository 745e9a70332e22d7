using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Decoding;

/// <summary>
/// Turns each message a channel loop reads into a change, and tells the run's monitor what was read. A message of a
/// type the replication has no use for is skipped (null); one that cannot be decoded halts the run with a reason that
/// names the channel and position.
/// </summary>
public sealed class MessageDecoding(IChangeDecoder decoder, TaskRunMonitor monitor)
{
    /// <exception cref="ReplicationHalted">The message is corrupt.</exception>
    public SourceChange? Decode(SourceMessage message)
    {
        var decoded = decoder.Decode(message);
        monitor.Read(message, decoded.Change);
        if (decoded.Change is { } change) return change;
        if (decoded.IsUnsupported) return null;
        throw ReplicationHalted.Because(decoded.Failure?.ToString() ?? $"cannot decode the message on {message.Describe()}");
    }
}
