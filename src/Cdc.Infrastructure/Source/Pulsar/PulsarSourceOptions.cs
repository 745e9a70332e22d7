using Cdc.Infrastructure.Configuration;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>The source Milvus' Pulsar: the keys of <c>sourceConfig.pulsar</c> in cdc.yaml, and the reader's limits.</summary>
public sealed record PulsarSourceOptions
{
    /// <summary><c>pulsar://host:port</c> or <c>pulsar+ssl://host:port</c> (several hosts separated by commas).</summary>
    public required string ServiceUrl { get; init; }

    public string Tenant { get; init; } = "public";

    public string Namespace { get; init; } = "default";

    /// <summary>The largest message taken, in bytes (<c>maxMessageSize</c>; a frame may add 10 KiB of command and metadata).</summary>
    public int MaxMessageSize { get; init; } = 5 * 1024 * 1024;

    /// <summary>The largest entry taken once decompressed, in bytes.</summary>
    public int MaxUncompressedEntryBytes { get; init; } = 256 * 1024 * 1024;

    public string? AuthPlugin { get; init; }

    public string? AuthParams { get; init; }

    /// <summary>PEM file of the certificate authorities trusted for <c>pulsar+ssl://</c> (instead of the system's).</summary>
    public string? TlsTrustCertsFilePath { get; init; }

    /// <summary>Messages a reader holds for its caller (<c>sourceConfig.readChanLen</c>, at least 1).</summary>
    public int ReadAhead { get; init; } = 256;

    /// <summary>Bytes a reader holds for its caller (<c>sourceConfig.readBufferBytes</c>; one larger message passes alone).</summary>
    public long ReadBufferBytes { get; init; } = 16L << 20;

    /// <summary>Time limit for one broker round trip (connect, lookup, subscribe).</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A PING goes out after this long without a frame from the broker; twice as long ends the connection.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a reader keeps reconnecting before it ends with an error.</summary>
    public TimeSpan ReconnectTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest pause between two reconnect attempts (they start at 100 ms and double).</summary>
    public TimeSpan MaxReconnectBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Lookup redirects followed before giving up (as Pulsar's clients, 20).</summary>
    public int MaxLookupRedirects { get; init; } = 20;

    /// <summary>The topic of a pchannel: <c>persistent://{tenant}/{namespace}/{channel}</c>, as Milvus names it.</summary>
    public string TopicOf(string channel) => $"persistent://{Tenant}/{Namespace}/{channel}";

    public static PulsarSourceOptions FromConfig(SourceConfig source)
    {
        var pulsar = source.Pulsar;
        return new PulsarSourceOptions
        {
            ServiceUrl = pulsar.Address ?? throw new ArgumentException("sourceConfig.pulsar.address is not set"),
            Tenant = pulsar.Tenant,
            Namespace = pulsar.Namespace,
            MaxMessageSize = pulsar.MaxMessageSize,
            AuthPlugin = pulsar.AuthPlugin,
            AuthParams = pulsar.AuthParams,
            TlsTrustCertsFilePath = pulsar.TlsTrustCertsFilePath,
            ReadAhead = Math.Max(1, source.ReadChanLen),
            ReadBufferBytes = source.ReadBufferBytes,
        };
    }
}
