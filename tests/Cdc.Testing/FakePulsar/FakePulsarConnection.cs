using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Google.Protobuf;
using CommandType = Cdc.Infrastructure.Source.Pulsar.Protos.BaseCommand.Types.Type;
using LookupType = Cdc.Infrastructure.Source.Pulsar.Protos.CommandLookupTopicResponse.Types.LookupType;

namespace Cdc.Testing.FakePulsar;

/// <summary>One client connection of the fake broker: its producers and consumers, and the commands it sends.</summary>
internal sealed class FakePulsarConnection(FakePulsarBroker broker, TcpClient client, Stream stream)
{
    private const int ServerProtocolVersion = 19;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<ulong, FakeConsumer> _consumers = new();
    private readonly ConcurrentDictionary<ulong, FakePulsarTopic> _producers = new();

    /// <summary>Whether a consumer is attached on this connection (a reader's connection, not a producer's).</summary>
    public bool HasConsumers => !_consumers.IsEmpty;

    public async Task RunAsync(CancellationToken stop)
    {
        var frames = new PulsarFrameReader(stream, broker.Options.MaxMessageSize + PulsarFrames.FramePadding);
        try
        {
            var first = await frames.ReadAsync(stop);
            if (first is null || first.Command.Type != CommandType.Connect) return;
            var connect = first.Command.Connect;
            broker.Record(connect);
            if (connect.HasProxyToBrokerUrl)
            {
                await ProxyAsync(connect, stop);
                return;
            }

            if (broker.Options.RequiredToken is { } token
                && (connect.AuthMethodName != "token" || connect.AuthData.ToStringUtf8() != token))
            {
                await SendAsync(Error(0, ServerError.AuthenticationError, "Unable to authenticate: the token is missing or wrong"));
                return;
            }

            await SendAsync(new BaseCommand
            {
                Type = CommandType.Connected,
                Connected = new CommandConnected
                {
                    ServerVersion = "fake-pulsar",
                    ProtocolVersion = Math.Min(connect.ProtocolVersion, ServerProtocolVersion),
                    MaxMessageSize = broker.Options.MaxMessageSize,
                },
            });
            while (await frames.ReadAsync(stop) is { } frame) await HandleAsync(frame);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or PulsarProtocolException)
        {
            // The client went away, or sent bytes that are no Pulsar frame: the connection ends, as on a broker.
        }
        finally
        {
            foreach (var consumer in _consumers.Values) consumer.Stop();
            broker.Forget(this);
            stream.Dispose();
            client.Dispose();
        }
    }

    private async Task HandleAsync(PulsarFrame frame)
    {
        var command = frame.Command;
        switch (command.Type)
        {
            case CommandType.Lookup:
                await SendAsync(LookupAnswer(command.LookupTopic));
                break;
            case CommandType.Subscribe:
                await SubscribeAsync(command.Subscribe);
                break;
            case CommandType.Flow:
                if (_consumers.TryGetValue(command.Flow.ConsumerId, out var flowing)) flowing.AddPermits(command.Flow.MessagePermits);
                break;
            case CommandType.Ack:
                if (_consumers.TryGetValue(command.Ack.ConsumerId, out var acking)) acking.Acknowledge(command.Ack);
                // An ACK with a request id asks for a receipt (protocol v17).
                if (command.Ack.HasRequestId)
                {
                    await SendAsync(new BaseCommand
                    {
                        Type = CommandType.AckResponse,
                        AckResponse = new CommandAckResponse { ConsumerId = command.Ack.ConsumerId, RequestId = command.Ack.RequestId },
                    });
                }

                break;
            case CommandType.GetLastMessageId:
                await SendLastMessageIdAsync(command.GetLastMessageId);
                break;
            case CommandType.Producer:
                await CreateProducerAsync(command.Producer);
                break;
            case CommandType.Send:
                await StoreAsync(command.Send, frame);
                break;
            case CommandType.Ping:
                broker.CountPing();
                if (broker.AnswersPings) await SendAsync(new BaseCommand { Type = CommandType.Pong, Pong = new CommandPong() });
                break;
            case CommandType.Pong:
                broker.CountPong();
                break;
            case CommandType.AuthResponse:
                broker.Record(command.AuthResponse);
                break;
            case CommandType.CloseConsumer:
                if (_consumers.TryRemove(command.CloseConsumer.ConsumerId, out var closing)) closing.Stop();
                await SendAsync(Success(command.CloseConsumer.RequestId));
                break;
            case CommandType.Unsubscribe:
                if (_consumers.TryRemove(command.Unsubscribe.ConsumerId, out var leaving))
                {
                    leaving.Stop();
                    leaving.Topic.RemoveSubscription(leaving.Subscribe.Subscription);
                }

                await SendAsync(Success(command.Unsubscribe.RequestId));
                break;
            case CommandType.CloseProducer:
                _producers.TryRemove(command.CloseProducer.ProducerId, out _);
                await SendAsync(Success(command.CloseProducer.RequestId));
                break;
            case CommandType.RedeliverUnacknowledgedMessages:
                break;
            default:
                throw new PulsarProtocolException($"the fake broker does not handle {command.Type}");
        }
    }

    private BaseCommand LookupAnswer(CommandLookupTopic lookup)
    {
        var answer = broker.Options.Lookup?.Invoke(lookup.Topic, lookup.Authoritative)
                     ?? new FakeLookupAnswer(LookupType.Connect, broker.Cluster.Owner(lookup.Topic).ServiceUrl);
        var response = new CommandLookupTopicResponse
        {
            RequestId = lookup.RequestId,
            Response = answer.Type,
            Authoritative = answer.Authoritative,
            ProxyThroughServiceUrl = answer.ProxyThroughServiceUrl,
        };
        if (answer.BrokerUrl.StartsWith("pulsar+ssl://", StringComparison.Ordinal)) response.BrokerServiceUrlTls = answer.BrokerUrl;
        else response.BrokerServiceUrl = answer.BrokerUrl;
        return new BaseCommand { Type = CommandType.LookupResponse, LookupTopicResponse = response };
    }

    private async Task SubscribeAsync(CommandSubscribe subscribe)
    {
        broker.Record(subscribe);
        if (broker.Cluster.Owner(subscribe.Topic) != broker)
        {
            await SendAsync(Error(subscribe.RequestId, ServerError.ServiceNotReady, $"{subscribe.Topic} is not served by this broker"));
            return;
        }

        var topic = broker.Cluster.Topic(subscribe.Topic);
        var consumer = new FakeConsumer(this, topic, subscribe);
        if (!topic.TryAttach(consumer, out var start))
        {
            await SendAsync(Error(subscribe.RequestId, ServerError.ConsumerBusy, $"Exclusive consumer is already connected to {subscribe.Subscription}"));
            return;
        }

        consumer.StartAt(start);
        _consumers[subscribe.ConsumerId] = consumer;
        await SendAsync(Success(subscribe.RequestId));
    }

    private async Task SendLastMessageIdAsync(CommandGetLastMessageId request)
    {
        if (!_consumers.TryGetValue(request.ConsumerId, out var consumer))
        {
            await SendAsync(Error(request.RequestId, ServerError.ConsumerNotFound, $"consumer {request.ConsumerId} not found"));
            return;
        }

        await SendAsync(new BaseCommand
        {
            Type = CommandType.GetLastMessageIdResponse,
            GetLastMessageIdResponse = new CommandGetLastMessageIdResponse { RequestId = request.RequestId, LastMessageId = consumer.Topic.LastMessageId() },
        });
    }

    private async Task CreateProducerAsync(CommandProducer producer)
    {
        if (broker.Cluster.Owner(producer.Topic) != broker)
        {
            await SendAsync(Error(producer.RequestId, ServerError.ServiceNotReady, $"{producer.Topic} is not served by this broker"));
            return;
        }

        _producers[producer.ProducerId] = broker.Cluster.Topic(producer.Topic);
        await SendAsync(new BaseCommand
        {
            Type = CommandType.ProducerSuccess,
            ProducerSuccess = new CommandProducerSuccess
            {
                RequestId = producer.RequestId,
                ProducerName = producer.HasProducerName && producer.ProducerName.Length > 0 ? producer.ProducerName : $"fake-{broker.Port}-{producer.ProducerId}",
                LastSequenceId = -1,
            },
        });
    }

    private async Task StoreAsync(CommandSend send, PulsarFrame frame)
    {
        if (!_producers.TryGetValue(send.ProducerId, out var topic) || frame.Metadata is null)
        {
            await SendAsync(new BaseCommand
            {
                Type = CommandType.SendError,
                SendError = new CommandSendError { ProducerId = send.ProducerId, SequenceId = send.SequenceId, Error = ServerError.UnknownError, Message = "no such producer, or no payload" },
            });
            return;
        }

        var entry = topic.Append(frame.Metadata, frame.Payload.ToArray());
        await SendAsync(new BaseCommand
        {
            Type = CommandType.SendReceipt,
            SendReceipt = new CommandSendReceipt
            {
                ProducerId = send.ProducerId,
                SequenceId = send.SequenceId,
                MessageId = new MessageIdData { LedgerId = (ulong)entry.LedgerId, EntryId = (ulong)entry.EntryId },
            },
        });
    }

    /// <summary>As a Pulsar proxy: CONNECT goes on to the named broker (without the proxy field), then bytes are piped.</summary>
    private async Task ProxyAsync(CommandConnect connect, CancellationToken stop)
    {
        var target = PulsarBrokerAddress.Parse(connect.ProxyToBrokerUrl);
        using var upstream = new TcpClient { NoDelay = true };
        await upstream.ConnectAsync(target.Host, target.Port, stop);
        var forwarded = connect.Clone();
        forwarded.ClearProxyToBrokerUrl();
        var upstreamStream = upstream.GetStream();
        await upstreamStream.WriteAsync(PulsarFrames.Simple(new BaseCommand { Type = CommandType.Connect, Connect = forwarded }), stop);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var down = Pipe(upstreamStream, stream, either.Token);
        var up = Pipe(stream, upstreamStream, either.Token);
        await Task.WhenAny(down, up);
        either.Cancel();
    }

    private static async Task Pipe(Stream from, Stream to, CancellationToken stop)
    {
        try
        {
            await from.CopyToAsync(to, stop);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async Task CloseConsumersAsync(string topic)
    {
        foreach (var (id, consumer) in _consumers)
        {
            if (consumer.Topic.Name != topic || !_consumers.TryRemove(id, out _)) continue;
            consumer.Stop();
            await SendAsync(new BaseCommand { Type = CommandType.CloseConsumer, CloseConsumer = new CommandCloseConsumer { ConsumerId = id, RequestId = 0 } });
        }
    }

    public Task SendPingAsync() => SendAsync(new BaseCommand { Type = CommandType.Ping, Ping = new CommandPing() });

    public Task SendAuthChallengeAsync() => SendAsync(new BaseCommand
    {
        Type = CommandType.AuthChallenge,
        AuthChallenge = new CommandAuthChallenge
        {
            ServerVersion = "fake-pulsar",
            ProtocolVersion = ServerProtocolVersion,
            Challenge = new AuthData { AuthMethodName = "token", AuthData_ = ByteString.CopyFromUtf8("refresh") },
        },
    });

    /// <summary>Sends one stored entry to a consumer as MESSAGE, going wrong as a fault for its topic says.</summary>
    public async Task SendEntryAsync(ulong consumerId, FakePulsarEntry entry, string topic)
    {
        var message = new BaseCommand
        {
            Type = CommandType.Message,
            Message = new CommandMessage
            {
                ConsumerId = consumerId,
                MessageId = new MessageIdData { LedgerId = (ulong)entry.LedgerId, EntryId = (ulong)entry.EntryId, Partition = -1, BatchIndex = -1 },
            },
        };
        var frame = PulsarFrames.WithPayload(message, entry.Metadata, entry.Payload);
        var magicAt = 8 + message.CalculateSize();
        switch (broker.TakeFault(topic, entry))
        {
            case FakePulsarFault.WrongChecksum:
                frame[magicAt + 2] ^= 0xFF;
                break;
            case FakePulsarFault.CorruptFrame:
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(magicAt), 0x0bad);
                break;
            case FakePulsarFault.UnknownCommand:
                await WriteAsync(PulsarFrames.Simple(new BaseCommand { Type = (CommandType)99 }));
                break;
        }

        await WriteAsync(frame);
        broker.CountDispatched();
    }

    private Task SendAsync(BaseCommand command) => WriteAsync(PulsarFrames.Simple(command));

    private async Task WriteAsync(byte[] frame)
    {
        await _writeLock.WaitAsync();
        try
        {
            await stream.WriteAsync(frame);
            await stream.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Abort()
    {
        try
        {
            client.Client?.Close(0);
        }
        catch (ObjectDisposedException)
        {
        }

        client.Dispose();
    }

    private static BaseCommand Success(ulong requestId) =>
        new() { Type = CommandType.Success, Success = new CommandSuccess { RequestId = requestId } };

    private static BaseCommand Error(ulong requestId, ServerError error, string message) =>
        new() { Type = CommandType.Error, Error = new CommandError { RequestId = requestId, Error = error, Message = message } };
}
