using System.Security.Cryptography.X509Certificates;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>What a consumer on a connection is told: its messages, and that it or the connection ended.</summary>
internal interface IPulsarConsumerHandler
{
    /// <summary>A MESSAGE frame for this consumer, on the connection's read loop (keep it short).</summary>
    void OnMessage(PulsarFrame frame);

    /// <summary>The broker closed the consumer (CLOSE_CONSUMER), e.g. because the topic moved to another broker.</summary>
    void OnClosedByBroker();

    /// <summary>The connection ended; <paramref name="reason"/> says why.</summary>
    void OnConnectionLost(Exception reason);
}

/// <summary>What every connection of a source needs: limits, authentication, trust, time.</summary>
internal sealed record PulsarConnectionSettings(
    PulsarAuthentication Authentication,
    X509Certificate2Collection? TrustedAuthorities,
    int MaxFrameSize,
    TimeSpan OperationTimeout,
    TimeSpan KeepAliveInterval,
    TimeProvider Time);
