using System.Security.Cryptography.X509Certificates;
using Cdc.Infrastructure.Source.Pulsar.Protos;

namespace Cdc.Testing.FakePulsar;

/// <summary>How a fake broker behaves. Defaults: plain TCP on a free loopback port, no authentication, owns every topic.</summary>
public sealed record FakePulsarOptions
{
    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Server certificate (with private key): the broker speaks TLS and its URL is pulsar+ssl://.</summary>
    public X509Certificate2? ServerCertificate { get; init; }

    /// <summary>When set, CONNECT must carry auth_method_name "token" with this token, else ERROR AuthenticationError.</summary>
    public string? RequiredToken { get; init; }

    /// <summary>max_message_size told in CONNECTED.</summary>
    public int MaxMessageSize { get; init; } = 5 * 1024 * 1024;

    /// <summary>
    /// The answer to a LOOKUP of a topic (authoritative flag given): null answers Connect to the broker owning the topic
    /// (<see cref="FakePulsarCluster.Owner"/>), as a broker of a cluster does.
    /// </summary>
    public Func<string, bool, FakeLookupAnswer?>? Lookup { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>A LOOKUP_RESPONSE: Connect or Redirect to a broker URL, possibly through the service URL (a proxy).</summary>
public sealed record FakeLookupAnswer(
    CommandLookupTopicResponse.Types.LookupType Type, string BrokerUrl, bool Authoritative = true, bool ProxyThroughServiceUrl = false);

/// <summary>Ways the next MESSAGE frame of a topic goes wrong on the wire.</summary>
public enum FakePulsarFault
{
    /// <summary>The checksum field does not match the bytes.</summary>
    WrongChecksum,

    /// <summary>The magic number before the checksum is not 0x0e01.</summary>
    CorruptFrame,

    /// <summary>A command whose type PulsarApi.proto does not define (99) goes first.</summary>
    UnknownCommand,
}
