namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>A broker (or proxy) address: <c>pulsar://host:port</c>, or <c>pulsar+ssl://host:port</c> for TLS.</summary>
public sealed record PulsarBrokerAddress(string Host, int Port, bool UseTls)
{
    public const int DefaultPort = 6650;
    public const int DefaultTlsPort = 6651;

    public string Url => $"{(UseTls ? "pulsar+ssl" : "pulsar")}://{Host}:{Port}";

    public override string ToString() => Url;

    /// <summary>
    /// Parses a broker URL as a lookup answers it, or a service URL, which may name several hosts
    /// (<c>pulsar://h1:6650,h2:6650</c>) tried in turn.
    /// </summary>
    public static IReadOnlyList<PulsarBrokerAddress> ParseServiceUrl(string url)
    {
        var text = url.Trim();
        bool tls;
        if (text.StartsWith("pulsar+ssl://", StringComparison.OrdinalIgnoreCase)) tls = true;
        else if (text.StartsWith("pulsar://", StringComparison.OrdinalIgnoreCase)) tls = false;
        else throw new FormatException($"'{url}' is not a Pulsar service URL: expected pulsar://host:port or pulsar+ssl://host:port");
        var hosts = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
        var addresses = new List<PulsarBrokerAddress>();
        foreach (var part in hosts.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = part.LastIndexOf(':');
            var bracketed = part.StartsWith('[');
            var hasPort = colon > 0 && (!bracketed || part.LastIndexOf(']') < colon);
            var host = hasPort ? part[..colon] : part;
            var port = tls ? DefaultTlsPort : DefaultPort;
            if (hasPort && (!int.TryParse(part[(colon + 1)..], out port) || port is < 1 or > 65535))
                throw new FormatException($"'{url}' has a port that is not a number from 1 to 65535: '{part}'");
            host = host.Trim('[', ']');
            if (host.Length == 0) throw new FormatException($"'{url}' names no host");
            addresses.Add(new PulsarBrokerAddress(host, port, tls));
        }

        if (addresses.Count == 0) throw new FormatException($"'{url}' names no host");
        return addresses;
    }

    public static PulsarBrokerAddress Parse(string url)
    {
        var addresses = ParseServiceUrl(url);
        return addresses.Count == 1 ? addresses[0] : throw new FormatException($"'{url}' names {addresses.Count} hosts where one broker was expected");
    }
}
