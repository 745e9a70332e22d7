using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using CommandType = Cdc.Infrastructure.Source.Pulsar.Protos.BaseCommand.Types.Type;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// The life of a connection around its traffic: the CONNECT handshake (with an authentication challenge answered),
/// the TLS trust of the broker's certificate, the keep-alive, and the end that fails what waits on it.
/// </summary>
internal sealed partial class PulsarConnection
{
    private async Task HandshakeAsync(string? proxyToBrokerUrl, CancellationToken cancellationToken)
    {
        var connect = new CommandConnect
        {
            ClientVersion = ClientVersion,
            ProtocolVersion = ProtocolVersion,
            FeatureFlags = new FeatureFlags { SupportsAuthRefresh = true },
        };
        if (_settings.Authentication.MethodName is { } method)
        {
            connect.AuthMethodName = method;
            connect.AuthData = Google.Protobuf.ByteString.CopyFrom(_settings.Authentication.Data());
        }

        if (proxyToBrokerUrl is not null) connect.ProxyToBrokerUrl = proxyToBrokerUrl;
        await SendAsync(new BaseCommand { Type = CommandType.Connect, Connect = connect }, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var frame = await _frames.ReadAsync(cancellationToken).ConfigureAwait(false)
                        ?? throw new IOException($"the Pulsar broker {Address} closed the connection during CONNECT");
            switch (frame.Command.Type)
            {
                case CommandType.Connected:
                    ServerVersion = frame.Command.Connected.ServerVersion;
                    return;
                case CommandType.Error:
                    throw new PulsarBrokerException(frame.Command.Error.Error, frame.Command.Error.Message);
                case CommandType.AuthChallenge:
                    await AnswerChallengeAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case CommandType.Ping:
                    await SendAsync(new BaseCommand { Type = CommandType.Pong, Pong = new CommandPong() }, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new PulsarProtocolException($"the Pulsar broker {Address} answered CONNECT with {PulsarFrames.Describe(frame.Command)}");
            }
        }
    }

    private Task AnswerChallengeAsync(CancellationToken cancellationToken)
    {
        var response = new CommandAuthResponse
        {
            ClientVersion = ClientVersion,
            ProtocolVersion = ProtocolVersion,
            Response = new AuthData
            {
                AuthMethodName = _settings.Authentication.MethodName ?? "none",
                AuthData_ = Google.Protobuf.ByteString.CopyFrom(_settings.Authentication.Data()),
            },
        };
        return SendAsync(new BaseCommand { Type = CommandType.AuthResponse, AuthResponse = response }, cancellationToken);
    }

    private async Task KeepAliveLoopAsync()
    {
        var interval = _settings.KeepAliveInterval;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(interval / 2, _settings.Time, _stop.Token).ConfigureAwait(false);
                var idle = _settings.Time.GetElapsedTime(Interlocked.Read(ref _lastReceived));
                if (idle >= interval * 2)
                {
                    Close(new TimeoutException(
                        $"the Pulsar broker {Address} sent nothing for {idle.TotalSeconds:0.#} s, not even an answer to PING (keep-alive {interval.TotalSeconds:0.#} s)"));
                    return;
                }

                if (idle >= interval)
                    await SendAsync(new BaseCommand { Type = CommandType.Ping, Ping = new CommandPing() }, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Close(e);
        }
    }

    /// <summary>Ends the connection: pending requests fail, consumers are told, the socket closes.</summary>
    private void Close(Exception reason)
    {
        if (!_closed.TrySetResult(reason)) return;
        foreach (var (_, pending) in _pending) pending.TrySetException(new IOException($"the connection to {Address} ended: {reason.Message}", reason));
        foreach (var (id, consumer) in _consumers)
        {
            _consumers.TryRemove(id, out _);
            consumer.OnConnectionLost(reason);
        }

        _stop.Cancel();
        Dispose(_tcp, _stream);
    }

    private static SslClientAuthenticationOptions TlsOptions(PulsarBrokerAddress address, PulsarConnectionSettings settings)
    {
        var options = new SslClientAuthenticationOptions { TargetHost = address.Host };
        if (settings.TrustedAuthorities is { } authorities)
        {
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is not null && ChainsTo(certificate, authorities, errors);
        }

        return options;
    }

    private static bool ChainsTo(X509Certificate certificate, X509Certificate2Collection authorities, SslPolicyErrors errors)
    {
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var presented = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(presented);
    }
}
