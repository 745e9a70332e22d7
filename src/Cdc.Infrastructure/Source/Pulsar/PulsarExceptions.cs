using Cdc.Infrastructure.Source.Pulsar.Protos;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// Bytes from the broker that do not follow the Pulsar binary protocol, or that this client cannot take (a malformed
/// frame, a wrong checksum, an unknown command, an oversized or undecodable message), or a token file that cannot be
/// read. Trying again would meet the same: it is not retried.
/// </summary>
public sealed class PulsarProtocolException(string message, Exception? innerException = null)
    : Exception(message, innerException);

/// <summary>A request the broker answered with an error (CommandError, a failed lookup, CONNECT refused).</summary>
public sealed class PulsarBrokerException(ServerError error, string message)
    : Exception($"{error}: {message}")
{
    public ServerError Error { get; } = error;

    /// <summary>Errors a client retries with a fresh lookup (PulsarApi.proto: ServiceNotReady "requires client retry").</summary>
    public bool IsRetryable => Error is ServerError.ServiceNotReady or ServerError.TooManyRequests
        or ServerError.MetadataError or ServerError.PersistenceError or ServerError.ConsumerBusy
        or ServerError.UnknownError;
}
