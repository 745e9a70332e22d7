using System.Security.Cryptography.X509Certificates;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// The source Milvus' Pulsar: each pchannel is the non-partitioned topic
/// <c>persistent://{tenant}/{namespace}/{pchannel}</c>. Positions are the MessageIdData bytes Milvus stores
/// (partition 0, the batch index of a batch message); resuming from one is exclusive, also inside a batch.
/// </summary>
public sealed class PulsarSourceChannels : ISourceChannels
{
    private readonly PulsarSourceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PulsarTopicLookup _lookup;

    /// <summary>Checks the options (service URL, authentication, trusted CAs) at once: a mistake there is no reason to retry.</summary>
    public PulsarSourceChannels(PulsarSourceOptions options, TimeProvider? time = null, ILogger<PulsarSourceChannels>? logger = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<PulsarSourceChannels>.Instance;
        if (options.MaxMessageSize < 1) throw new ArgumentException($"sourceConfig.pulsar.maxMessageSize must be at least 1, got {options.MaxMessageSize}");
        IReadOnlyList<PulsarBrokerAddress> service;
        try
        {
            service = PulsarBrokerAddress.ParseServiceUrl(options.ServiceUrl);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"sourceConfig.pulsar.address: {e.Message}", e);
        }

        var settings = new PulsarConnectionSettings(
            PulsarAuthentication.FromConfig(options.AuthPlugin, options.AuthParams),
            TrustedAuthorities(options.TlsTrustCertsFilePath),
            options.MaxMessageSize + PulsarFrames.FramePadding,
            options.OperationTimeout,
            options.KeepAliveInterval,
            _time);
        _lookup = new PulsarTopicLookup(service, settings, options.MaxLookupRedirects, _logger);
    }

    /// <summary>"After the earliest id": a reader opened after this position reads a topic from its first message.</summary>
    public static SourcePosition Earliest(string channel) =>
        new(channel, SourceMessageIdCodec.ToBytes(new PulsarMessageId(ulong.MaxValue, ulong.MaxValue, 0, -1)));

    public async Task<ISourceChannelReader> OpenReaderAsync(string channel, SourceChannelStart start, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        var after = start switch
        {
            SourceChannelStart.AfterPosition a => ResumePoint(channel, a.Position),
            // A time: from the first message kept; the reading stage drops what is older than the time.
            SourceChannelStart.EarliestStart or SourceChannelStart.AtTimeStart => ResumePoint(channel, Earliest(channel)),
            _ => (MessagePoint?)null,
        };
        try
        {
            return await PulsarChannelReader.OpenAsync(channel, after, _options, _lookup, _time, _logger, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SourceChannelException(channel, $"cannot open a reader on {_options.TopicOf(channel)}: {e.Message}", e);
        }
    }

    private static MessagePoint ResumePoint(string channel, SourcePosition position)
    {
        if (position.Channel != channel)
            throw new ArgumentException($"the position belongs to channel {position.Channel}, not {channel}", nameof(position));
        return SourceMessageIdCodec.FromPulsar(position.MessageId.Span) is PulsarMessageId id
            ? MessagePoint.Of(id)
            : throw new ArgumentException(
                $"the position of channel {channel} is not a Pulsar MessageIdData (0x{Convert.ToHexString(position.MessageId.Span)})", nameof(position));
    }

    private static X509Certificate2Collection? TrustedAuthorities(string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) return null;
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ArgumentException($"sourceConfig.pulsar.tlsTrustCertsFilePath: cannot read {path}: {e.Message}", e);
        }

        return authorities.Count > 0
            ? authorities
            : throw new ArgumentException($"sourceConfig.pulsar.tlsTrustCertsFilePath: no certificate in {path}");
    }
}
