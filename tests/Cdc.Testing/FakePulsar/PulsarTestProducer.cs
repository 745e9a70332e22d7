using System.Net.Security;
using System.Net.Sockets;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Google.Protobuf;
using CommandType = Cdc.Infrastructure.Source.Pulsar.Protos.BaseCommand.Types.Type;
using LookupType = Cdc.Infrastructure.Source.Pulsar.Protos.CommandLookupTopicResponse.Types.LookupType;

namespace Cdc.Testing.FakePulsar;

/// <summary>
/// A producer over the Pulsar wire for tests: CONNECT (with a token), LOOKUP (following redirects), PRODUCER, then
/// SEND of entries in a <see cref="PulsarEntryFormat"/> (by default as Milvus 2.3-2.5 writes: a ZSTD batch of one),
/// one request at a time.
/// </summary>
public sealed class PulsarTestProducer : IAsyncDisposable
{
    private const ulong ProducerId = 1;
    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly PulsarFrameReader _frames;
    private ulong _requestId;
    private ulong _sequenceId;

    private PulsarTestProducer(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
        _frames = new PulsarFrameReader(stream, 64 * 1024 * 1024);
    }

    public string Name { get; private set; } = "";

    public static async Task<PulsarTestProducer> ConnectAsync(string serviceUrl, string topic, string? token = null, CancellationToken cancellationToken = default)
    {
        var address = PulsarBrokerAddress.ParseServiceUrl(serviceUrl)[0];
        for (var hops = 0; ; hops++)
        {
            var producer = await OpenAsync(address, token, cancellationToken);
            try
            {
                var lookup = await producer.RequestAsync(new BaseCommand
                {
                    Type = CommandType.Lookup,
                    LookupTopic = new CommandLookupTopic { Topic = topic, RequestId = ++producer._requestId },
                }, cancellationToken);
                var answer = lookup.LookupTopicResponse;
                if (answer.Response == LookupType.Failed) throw new PulsarBrokerException(answer.Error, answer.Message);
                var broker = PulsarBrokerAddress.Parse(address.UseTls ? answer.BrokerServiceUrlTls : answer.BrokerServiceUrl);
                if (answer.Response == LookupType.Connect && broker == address)
                {
                    var created = await producer.RequestAsync(new BaseCommand
                    {
                        Type = CommandType.Producer,
                        Producer = new CommandProducer { Topic = topic, ProducerId = ProducerId, RequestId = ++producer._requestId },
                    }, cancellationToken);
                    if (created.Type == CommandType.Error) throw new PulsarBrokerException(created.Error.Error, created.Error.Message);
                    producer.Name = created.ProducerSuccess.ProducerName;
                    return producer;
                }

                if (hops >= 10) throw new InvalidOperationException($"the lookup of {topic} did not settle in {hops} hops");
                address = broker;
            }
            catch
            {
                await producer.DisposeAsync();
                throw;
            }

            await producer.DisposeAsync();
        }
    }

    /// <summary>Sends one message; returns the id of its entry.</summary>
    public async Task<MessageIdData> SendAsync(PulsarTestMessage message, PulsarEntryFormat? format = null, CancellationToken cancellationToken = default) =>
        (await SendAsync([message], format, cancellationToken))[0];

    /// <summary>Sends messages as entries of <paramref name="format"/>; returns the entry ids, in order.</summary>
    public async Task<IReadOnlyList<MessageIdData>> SendAsync(
        IReadOnlyList<PulsarTestMessage> messages, PulsarEntryFormat? format = null, CancellationToken cancellationToken = default)
    {
        var ids = new List<MessageIdData>();
        foreach (var (metadata, payload) in (format ?? PulsarEntryFormat.Milvus).Entries(messages, Name, () => _sequenceId++, TimeProvider.System))
        {
            var send = new BaseCommand
            {
                Type = CommandType.Send,
                Send = new CommandSend
                {
                    ProducerId = ProducerId,
                    SequenceId = metadata.SequenceId,
                    NumMessages = metadata.HasNumMessagesInBatch ? metadata.NumMessagesInBatch : 1,
                },
            };
            await _stream.WriteAsync(PulsarFrames.WithPayload(send, metadata, payload), cancellationToken);
            var answer = await ReadAnswerAsync(cancellationToken);
            if (answer.Type != CommandType.SendReceipt)
                throw new InvalidOperationException($"SEND was answered with {answer.Type}: {answer.SendError?.Message}");
            ids.Add(answer.SendReceipt.MessageId);
        }

        return ids;
    }

    private static async Task<PulsarTestProducer> OpenAsync(PulsarBrokerAddress address, string? token, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(address.Host, address.Port, cancellationToken);
        Stream stream = tcp.GetStream();
        if (address.UseTls)
        {
            // A test tool: the broker's certificate is taken as it is.
            var ssl = new SslStream(stream, false, (_, _, _, _) => true);
            await ssl.AuthenticateAsClientAsync(address.Host);
            stream = ssl;
        }

        var producer = new PulsarTestProducer(tcp, stream);
        var connect = new CommandConnect { ClientVersion = "cdc-test-producer", ProtocolVersion = 19 };
        if (token is not null)
        {
            connect.AuthMethodName = "token";
            connect.AuthData = ByteString.CopyFromUtf8(token);
        }

        var connected = await producer.RequestAsync(new BaseCommand { Type = CommandType.Connect, Connect = connect }, cancellationToken);
        return connected.Type == CommandType.Connected
            ? producer
            : throw new PulsarBrokerException(connected.Error?.Error ?? ServerError.UnknownError, $"CONNECT answered {connected.Type}");
    }

    private async Task<BaseCommand> RequestAsync(BaseCommand command, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(PulsarFrames.Simple(command), cancellationToken);
        return await ReadAnswerAsync(cancellationToken);
    }

    private async Task<BaseCommand> ReadAnswerAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var frame = await _frames.ReadAsync(cancellationToken) ?? throw new IOException("the broker closed the connection");
            if (frame.Command.Type != CommandType.Ping) return frame.Command;
            await _stream.WriteAsync(PulsarFrames.Simple(new BaseCommand { Type = CommandType.Pong, Pong = new CommandPong() }), cancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
