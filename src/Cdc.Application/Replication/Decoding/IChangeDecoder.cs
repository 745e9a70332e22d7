using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Decoding;

/// <summary>
/// Turns a message read from a source channel into a typed change. Never throws for bad input: a corrupt or
/// unsupported message is a failed result naming the channel and position.
/// </summary>
public interface IChangeDecoder
{
    ChangeDecodeResult Decode(SourceMessage message);
}
