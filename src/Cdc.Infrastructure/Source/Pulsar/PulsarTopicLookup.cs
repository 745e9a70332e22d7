using Cdc.Infrastructure.Source.Pulsar.Protos;
using Microsoft.Extensions.Logging;
using CommandType = Cdc.Infrastructure.Source.Pulsar.Protos.BaseCommand.Types.Type;
using LookupType = Cdc.Infrastructure.Source.Pulsar.Protos.CommandLookupTopicResponse.Types.LookupType;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// Finds the broker that owns a topic and opens a connection to it: LOOKUP on the service URL, following Redirect
/// answers (with their authoritative flag) up to a limit, and going through the service URL with
/// CONNECT.proxy_to_broker_url when the answer says proxy_through_service_url (a Pulsar proxy in front).
/// </summary>
internal sealed class PulsarTopicLookup(
    IReadOnlyList<PulsarBrokerAddress> serviceAddresses, PulsarConnectionSettings settings, int maxRedirects, ILogger logger)
{
    private int _nextService;

    public async Task<PulsarConnection> ConnectToOwnerAsync(string topic, CancellationToken cancellationToken)
    {
        var service = serviceAddresses[(int)((uint)Interlocked.Increment(ref _nextService) % (uint)serviceAddresses.Count)];
        var connection = await PulsarConnection.OpenAsync(service, null, settings, logger, cancellationToken).ConfigureAwait(false);
        try
        {
            var authoritative = false;
            for (var redirects = 0; ; redirects++)
            {
                var requestId = connection.NextRequestId();
                var lookup = new BaseCommand
                {
                    Type = CommandType.Lookup,
                    LookupTopic = new CommandLookupTopic { Topic = topic, RequestId = requestId, Authoritative = authoritative },
                };
                var answer = (await connection.RequestAsync(lookup, requestId, cancellationToken).ConfigureAwait(false)).LookupTopicResponse;
                if (answer.Response == LookupType.Failed)
                    throw new PulsarBrokerException(answer.Error, $"lookup of {topic} failed: {answer.Message}");

                var url = service.UseTls ? answer.BrokerServiceUrlTls : answer.BrokerServiceUrl;
                if (string.IsNullOrEmpty(url))
                    throw new PulsarProtocolException(
                        $"the lookup of {topic} answered {answer.Response} without a {(service.UseTls ? "brokerServiceUrlTls" : "brokerServiceUrl")}");
                var broker = PulsarBrokerAddress.Parse(url);
                if (answer.Response == LookupType.Connect && !answer.ProxyThroughServiceUrl && SameEndpoint(broker, connection))
                    return Keep(ref connection);

                if (answer.Response == LookupType.Redirect && redirects >= maxRedirects)
                    throw new PulsarProtocolException($"the lookup of {topic} was redirected more than {maxRedirects} times");
                logger.LogDebug("pulsar lookup of {Topic}: {Answer} to {Broker}{Proxy}", topic, answer.Response, url,
                    answer.ProxyThroughServiceUrl ? $" through {service}" : "");
                var next = answer.ProxyThroughServiceUrl
                    ? await PulsarConnection.OpenAsync(service, url, settings, logger, cancellationToken).ConfigureAwait(false)
                    : await PulsarConnection.OpenAsync(broker, null, settings, logger, cancellationToken).ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
                connection = next;
                if (answer.Response == LookupType.Connect) return Keep(ref connection);
                authoritative = answer.Authoritative;
            }
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static bool SameEndpoint(PulsarBrokerAddress broker, PulsarConnection connection) =>
        connection.ProxiedBrokerUrl is null && broker.Port == connection.Address.Port && broker.UseTls == connection.Address.UseTls
        && string.Equals(broker.Host, connection.Address.Host, StringComparison.OrdinalIgnoreCase);

    /// <summary>Hands the connection to the caller (the finally block no longer closes it).</summary>
    private static PulsarConnection Keep(ref PulsarConnection connection)
    {
        var kept = connection;
        connection = null!;
        return kept;
    }
}
