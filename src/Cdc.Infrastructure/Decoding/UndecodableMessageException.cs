using Cdc.Domain.Changes;

namespace Cdc.Infrastructure.Decoding;

/// <summary>The one exception the msgstream decoder throws (from DecodeOrThrow); it names channel and position.</summary>
public sealed class UndecodableMessageException(UndecodableMessage failure) : Exception(failure.ToString())
{
    public UndecodableMessage Failure { get; } = failure;
}
