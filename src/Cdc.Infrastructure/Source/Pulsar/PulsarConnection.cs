using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Microsoft.Extensions.Logging;
using CommandType = Cdc.Infrastructure.Source.Pulsar.Protos.BaseCommand.Types.Type;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// One TCP (or TLS) connection to a Pulsar broker or proxy: the CONNECT/CONNECTED handshake, requests matched to
/// their answers by request_id, MESSAGE frames handed to their consumer, PING answered with PONG, and a keep-alive
/// that PINGs an idle broker and gives the connection up when nothing comes back.
/// </summary>
internal sealed partial class PulsarConnection : IAsyncDisposable
{
    public const string ClientVersion = "milvus-cdc-csharp";

    /// <summary>The protocol version announced in CONNECT (PulsarApi.proto ProtocolVersion v19).</summary>
    public const int ProtocolVersion = 19;

    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly PulsarFrameReader _frames;
    private readonly PulsarConnectionSettings _settings;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<BaseCommand>> _pending = new();
    private readonly ConcurrentDictionary<ulong, IPulsarConsumerHandler> _consumers = new();
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextRequestId;
    private long _nextConsumerId;
    private long _lastReceived;
    private Task _reading = Task.CompletedTask;
    private Task _keepingAlive = Task.CompletedTask;
    private int _disposed;

    private PulsarConnection(TcpClient tcp, Stream stream, PulsarBrokerAddress address, PulsarConnectionSettings settings, ILogger logger)
    {
        _tcp = tcp;
        _stream = stream;
        _settings = settings;
        _logger = logger;
        Address = address;
        // Reads go through a buffer (many small frames per socket read); writes are whole frames, straight to the stream.
        _frames = new PulsarFrameReader(new BufferedStream(stream, 64 * 1024), settings.MaxFrameSize);
        _lastReceived = settings.Time.GetTimestamp();
    }

    /// <summary>Where this connection goes (a proxy's address when proxied).</summary>
    public PulsarBrokerAddress Address { get; }

    /// <summary>The broker this connection asked a proxy to reach (CONNECT.proxy_to_broker_url), if any.</summary>
    public string? ProxiedBrokerUrl { get; private init; }

    public string ServerVersion { get; private set; } = "";

    /// <summary>Completes, with the reason, when the connection has ended.</summary>
    public Task<Exception> Closed => _closed.Task;

    public bool IsClosed => _closed.Task.IsCompleted;

    public static async Task<PulsarConnection> OpenAsync(
        PulsarBrokerAddress address, string? proxyToBrokerUrl, PulsarConnectionSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.OperationTimeout);
        var tcp = new TcpClient { NoDelay = true };
        Stream? stream = null;
        try
        {
            await tcp.ConnectAsync(address.Host, address.Port, timeout.Token).ConfigureAwait(false);
            stream = tcp.GetStream();
            if (address.UseTls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(TlsOptions(address, settings), timeout.Token).ConfigureAwait(false);
            }

            var connection = new PulsarConnection(tcp, stream, address, settings, logger) { ProxiedBrokerUrl = proxyToBrokerUrl };
            await connection.HandshakeAsync(proxyToBrokerUrl, timeout.Token).ConfigureAwait(false);
            connection._reading = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
            connection._keepingAlive = Task.Run(connection.KeepAliveLoopAsync, CancellationToken.None);
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Dispose(tcp, stream);
            throw new TimeoutException($"no connection to the Pulsar broker {address} within {settings.OperationTimeout.TotalSeconds:0.#} s");
        }
        catch (AuthenticationException e)
        {
            Dispose(tcp, stream);
            throw new PulsarProtocolException($"the TLS handshake with the Pulsar broker {address} failed: {e.Message}", e);
        }
        catch
        {
            Dispose(tcp, stream);
            throw;
        }
    }

    public ulong NextRequestId() => (ulong)Interlocked.Increment(ref _nextRequestId);

    public ulong NextConsumerId() => (ulong)Interlocked.Increment(ref _nextConsumerId);

    public void AttachConsumer(ulong consumerId, IPulsarConsumerHandler handler)
    {
        _consumers[consumerId] = handler;
        if (IsClosed) handler.OnConnectionLost(_closed.Task.Result);
    }

    public void DetachConsumer(ulong consumerId) => _consumers.TryRemove(consumerId, out _);

    /// <summary>Sends a command and waits for the answer carrying <paramref name="requestId"/>; a CommandError throws.</summary>
    public async Task<BaseCommand> RequestAsync(BaseCommand command, ulong requestId, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<BaseCommand>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[requestId] = answer;
        try
        {
            if (IsClosed) throw new IOException($"the connection to {Address} is closed", _closed.Task.Result);
            await SendAsync(command, cancellationToken).ConfigureAwait(false);
            var response = await answer.Task.WaitAsync(_settings.OperationTimeout, _settings.Time, cancellationToken).ConfigureAwait(false);
            return response.Type == CommandType.Error
                ? throw new PulsarBrokerException(response.Error.Error, response.Error.Message)
                : response;
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the Pulsar broker {Address} did not answer {command.Type.ToString().ToUpperInvariant()} within {_settings.OperationTimeout.TotalSeconds:0.#} s");
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
        }
    }

    public Task SendAsync(BaseCommand command, CancellationToken cancellationToken) =>
        WriteAsync(PulsarFrames.Simple(command), cancellationToken);

    private async Task WriteAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception reason;
        try
        {
            while (true)
            {
                var frame = await _frames.ReadAsync(_stop.Token).ConfigureAwait(false);
                if (frame is null)
                {
                    reason = new IOException($"the Pulsar broker {Address} closed the connection");
                    break;
                }

                Interlocked.Exchange(ref _lastReceived, _settings.Time.GetTimestamp());
                await DispatchAsync(frame).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            reason = new ObjectDisposedException(nameof(PulsarConnection), $"the connection to {Address} was closed by this client");
        }
        catch (Exception e) when (e is IOException or SocketException or PulsarProtocolException or PulsarBrokerException or ObjectDisposedException)
        {
            reason = e;
        }

        Close(reason);
    }

    private async Task DispatchAsync(PulsarFrame frame)
    {
        var command = frame.Command;
        switch (command.Type)
        {
            case CommandType.Message:
                if (_consumers.TryGetValue(command.Message.ConsumerId, out var consumer)) consumer.OnMessage(frame);
                break;
            case CommandType.Ping:
                await SendAsync(new BaseCommand { Type = CommandType.Pong, Pong = new CommandPong() }, _stop.Token).ConfigureAwait(false);
                break;
            case CommandType.Pong:
                break;
            case CommandType.Success:
                Answer(command.Success.RequestId, command);
                break;
            case CommandType.Error:
                Answer(command.Error.RequestId, command);
                break;
            case CommandType.LookupResponse:
                Answer(command.LookupTopicResponse.RequestId, command);
                break;
            case CommandType.GetLastMessageIdResponse:
                Answer(command.GetLastMessageIdResponse.RequestId, command);
                break;
            case CommandType.ProducerSuccess:
                Answer(command.ProducerSuccess.RequestId, command);
                break;
            case CommandType.CloseConsumer:
                if (_consumers.TryRemove(command.CloseConsumer.ConsumerId, out var closed)) closed.OnClosedByBroker();
                break;
            case CommandType.AuthChallenge:
                await AnswerChallengeAsync(_stop.Token).ConfigureAwait(false);
                break;
            case CommandType.ActiveConsumerChange:
            case CommandType.ReachedEndOfTopic:
                _logger.LogInformation("pulsar broker {Broker}: {Command}", Address, command.Type);
                break;
            default:
                throw new PulsarProtocolException(
                    $"the Pulsar broker {Address} sent command type {(int)command.Type} ({command.Type}), which this client does not handle");
        }
    }

    private void Answer(ulong requestId, BaseCommand command)
    {
        if (_pending.TryGetValue(requestId, out var answer)) answer.TrySetResult(command);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Close(new ObjectDisposedException(nameof(PulsarConnection), $"the connection to {Address} was closed by this client"));
        await Task.WhenAll(_reading, _keepingAlive).ConfigureAwait(false);
        _stop.Dispose();
        _writeLock.Dispose();
    }

    private static void Dispose(TcpClient tcp, Stream? stream)
    {
        try
        {
            stream?.Dispose();
        }
        catch (IOException)
        {
        }

        tcp.Dispose();
    }

}
