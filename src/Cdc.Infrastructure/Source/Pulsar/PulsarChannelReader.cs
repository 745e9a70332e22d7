using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Microsoft.Extensions.Logging;
using CommandType = Cdc.Infrastructure.Source.Pulsar.Protos.BaseCommand.Types.Type;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// Reads one Pulsar topic (a Milvus pchannel) as a Pulsar Reader does: a non-durable Exclusive subscription under a
/// name of its own, started at a message id (start_message_id) and never acknowledged, so the CDC holds no backlog
/// on the source. Messages are handed over in order, each batch message with its batch index. The broker sends only
/// as many messages as FLOW permits allow, and permits are granted as the caller takes messages, so the reader holds
/// about <see cref="PulsarSourceOptions.ReadAhead"/> messages and <see cref="PulsarSourceOptions.ReadBufferBytes"/>
/// bytes (one larger message passes alone; a batch always arrives whole). When the broker closes the consumer or the
/// connection drops, the reader looks the topic up again and resubscribes after the last message it queued.
/// </summary>
internal sealed partial class PulsarChannelReader : ISourceChannelReader
{
    private const int SizeHistory = 16;
    private readonly string _topic;
    private readonly PulsarSourceOptions _options;
    private readonly PulsarTopicLookup _lookup;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<SourceMessage> _messages =
        System.Threading.Channels.Channel.CreateUnbounded<SourceMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly int[] _recentSizes = new int[SizeHistory];
    private int _sizesSeen;
    private long _bufferedBytes;
    private int _bufferedMessages;
    private MessagePoint? _resumeAfter;
    private readonly LentMessageArrays<MessagePoint> _lent = new(ArrayPool<byte>.Shared); // frames, or entries decompressed
    private Session? _session;
    private Task _supervising = Task.CompletedTask;
    private int _failed;
    private int _disposed;

    private PulsarChannelReader(string channel, PulsarSourceOptions options, PulsarTopicLookup lookup, TimeProvider time, ILogger logger)
    {
        Channel = channel;
        _topic = options.TopicOf(channel);
        _options = options;
        _lookup = lookup;
        _time = time;
        _logger = logger;
    }

    public string Channel { get; }

    public SourcePosition? StartsAfter { get; private set; }

    public long BufferedBytes => Interlocked.Read(ref _bufferedBytes);

    public int BufferedMessages => Volatile.Read(ref _bufferedMessages);

    /// <summary>Subscribes (the start is fixed when this returns) and starts reading in the background.</summary>
    public static async Task<PulsarChannelReader> OpenAsync(
        string channel, MessagePoint? after, PulsarSourceOptions options, PulsarTopicLookup lookup, TimeProvider time, ILogger logger,
        CancellationToken cancellationToken)
    {
        var reader = new PulsarChannelReader(channel, options, lookup, time, logger) { _resumeAfter = after };
        try
        {
            var session = await reader.SubscribeAsync(after, cancellationToken).ConfigureAwait(false);
            if (after is null)
            {
                // From the latest message: the last id now is where reading starts (exclusive), and what is told.
                var last = await reader.LastMessageIdAsync(session, cancellationToken).ConfigureAwait(false);
                reader._resumeAfter = last;
                reader.StartsAfter = new SourcePosition(channel, SourceMessageIdCodec.ToBytes(last.ToMessageId()));
            }

            reader.Start(session);
            return reader;
        }
        catch
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async IAsyncEnumerable<SourceMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var message in _messages.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Add(ref _bufferedBytes, -message.Payload.Length);
            Interlocked.Decrement(ref _bufferedMessages);
            GrantPermits();
            yield return message;
        }
    }

    private void Start(Session session)
    {
        lock (_gate) _session = session;
        GrantPermits();
        _supervising = Task.Run(() => SuperviseAsync(session), CancellationToken.None);
    }

    private async Task<Session> SubscribeAsync(MessagePoint? after, CancellationToken cancellationToken)
    {
        var connection = await _lookup.ConnectToOwnerAsync(_topic, cancellationToken).ConfigureAwait(false);
        try
        {
            var session = new Session(this, connection, connection.NextConsumerId());
            connection.AttachConsumer(session.ConsumerId, session);
            var requestId = connection.NextRequestId();
            var subscribe = new CommandSubscribe
            {
                Topic = _topic,
                // A name of its own per subscription: a broker that has not noticed an old connection's end yet
                // would refuse a second Exclusive consumer on the same one.
                Subscription = $"cdc-reader-{Guid.NewGuid():N}",
                SubType = CommandSubscribe.Types.SubType.Exclusive,
                ConsumerId = session.ConsumerId,
                RequestId = requestId,
                ConsumerName = $"cdc-{Channel}",
                Durable = false,
                ReadCompacted = false,
                // The broker starts at the entry of a batch message id (the client drops what it had), after a plain one.
                StartMessageId = (after ?? MessagePoint.Latest).ToStartMessageId(),
                InitialPosition = CommandSubscribe.Types.InitialPosition.Latest,
            };
            await connection.RequestAsync(new BaseCommand { Type = CommandType.Subscribe, Subscribe = subscribe }, requestId, cancellationToken)
                .ConfigureAwait(false);
            _logger.LogInformation("reading {Topic} on {Broker} after {Start}", _topic, connection.ProxiedBrokerUrl ?? connection.Address.Url,
                after?.ToString() ?? "the latest message");
            return session;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<MessagePoint> LastMessageIdAsync(Session session, CancellationToken cancellationToken)
    {
        var requestId = session.Connection.NextRequestId();
        var request = new BaseCommand
        {
            Type = CommandType.GetLastMessageId,
            GetLastMessageId = new CommandGetLastMessageId { ConsumerId = session.ConsumerId, RequestId = requestId },
        };
        var answer = await session.Connection.RequestAsync(request, requestId, cancellationToken).ConfigureAwait(false);
        return MessagePoint.Of(answer.GetLastMessageIdResponse.LastMessageId);
    }

    /// <summary>
    /// The newest message of the topic, by GET_LAST_MESSAGE_ID on the current subscription (the broker answers with
    /// the last entry written, with the largest batch index of a batch entry). An answer whose entry is -1 names no
    /// message (an empty topic, or a ledger opened with nothing written yet, which Pulsar's own reader takes as
    /// "no more messages": pulsar-client ConsumerImpl.hasMoreMessages): null.
    /// </summary>
    public async Task<SourcePosition?> NewestAsync(CancellationToken cancellationToken)
    {
        Session? session;
        lock (_gate) session = _session;
        if (session is null || Volatile.Read(ref _failed) != 0 || Volatile.Read(ref _disposed) != 0)
            throw new SourceChannelException(Channel, "cannot ask for the newest message: the reader is not subscribed (reconnecting or closed)");
        MessagePoint last;
        try
        {
            last = await LastMessageIdAsync(session, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SourceChannelException(Channel, $"cannot ask for the newest message: {e.Message}", e);
        }

        return last.Entry < 0 ? null : new SourcePosition(Channel, SourceMessageIdCodec.ToBytes(last.ToMessageId()));
    }

    /// <summary>
    /// The pooled arrays (frames, or entries decompressed) all of whose messages are at or before
    /// <paramref name="completed"/> go back to the pool: the caller holds none of their payloads any more.
    /// </summary>
    public void Completed(SourcePosition completed)
    {
        var done = PointOf(completed);
        _lent.ReturnCompleted(last => !last.IsAfter(done));
    }

    /// <summary>
    /// By Pulsar's order of ids (ledger, entry, batch index); an id of a whole entry (batch index -1) on either side
    /// counts as reached at the same entry, as Milvus writes batches of one message.
    /// </summary>
    public bool Reached(SourcePosition completed, SourcePosition newest) => !PointOf(newest).IsAfter(PointOf(completed));

    private MessagePoint PointOf(SourcePosition position) =>
        SourceMessageIdCodec.FromPulsar(position.MessageId.Span) is PulsarMessageId id
            ? MessagePoint.Of(id)
            : throw new ArgumentException($"the position of channel {Channel} is not a Pulsar MessageIdData (0x{Convert.ToHexString(position.MessageId.Span)})");

    /// <summary>Called on the connection's read loop for each MESSAGE frame of the current subscription.</summary>
    private void OnMessage(Session session, PulsarFrame frame)
    {
        if (session != Volatile.Read(ref _session) || Volatile.Read(ref _failed) != 0) return;
        var id = frame.Command.Message.MessageId;
        var entry = new MessagePoint((long)id.LedgerId, (long)id.EntryId, -1);
        try
        {
            var metadata = frame.Metadata ?? throw new PulsarProtocolException("MESSAGE without metadata and payload");
            Interlocked.Add(ref session.Outstanding, metadata.HasNumMessagesInBatch ? -Math.Max(1, metadata.NumMessagesInBatch) : -1);
            var messages = PulsarEntries.Decode(metadata, frame.Payload, _options.MaxUncompressedEntryBytes, out var decompressed);
            // The messages are slices of the frame, or of the array a compressed entry was decompressed into (Milvus
            // writes ZSTD): a pooled one goes back once the last of them is completed. A compressed frame's own array is
            // not needed past the decompression.
            var compressed = metadata.Compression != CompressionType.None;
            if ((compressed ? decompressed : frame.Lent) is { } lent && messages.Count > 0)
            {
                _lent.Lend(entry with { BatchIndex = messages[^1].BatchIndex }, lent);
            }

            if (compressed && frame.Lent is { } compressedFrame) ArrayPool<byte>.Shared.Return(compressedFrame);

            foreach (var message in messages)
            {
                var point = entry with { BatchIndex = message.BatchIndex };
                if (_resumeAfter is { } resume && !point.IsAfter(resume)) continue;
                var source = new SourceMessage(Channel, point.ToMessageId(), message.Properties, message.Payload);
                lock (_gate)
                {
                    _recentSizes[_sizesSeen++ % SizeHistory] = message.Payload.Length;
                    _resumeAfter = point;
                }

                Interlocked.Add(ref _bufferedBytes, message.Payload.Length);
                Interlocked.Increment(ref _bufferedMessages);
                _messages.Writer.TryWrite(source);
            }
        }
        catch (Exception e)
        {
            Fail(new SourceChannelException(Channel, $"cannot read the message at {entry.ToMessageId()}: {e.Message}", e, retryable: false));
            return;
        }

        GrantPermits();
    }

    /// <summary>
    /// Lets the broker send as many messages as the buffer has room for: up to ReadAhead messages, and as many bytes as
    /// readBufferBytes leaves, estimated by the largest of the recent messages (one at a time until sizes are known;
    /// at least one when the buffer is empty). Small top-ups wait until the broker's permits run out.
    /// </summary>
    private void GrantPermits()
    {
        Session? session;
        long grant;
        lock (_gate)
        {
            session = _session;
            if (session is null || Volatile.Read(ref _failed) != 0) return;
            var queued = Volatile.Read(ref _bufferedMessages);
            var room = (long)_options.ReadAhead - queued;
            var estimate = _sizesSeen == 0 ? 0 : _recentSizes.Take(Math.Min(_sizesSeen, SizeHistory)).Max();
            room = estimate == 0
                ? Math.Min(room, 1)
                : Math.Min(room, Math.Max(0, _options.ReadBufferBytes - Interlocked.Read(ref _bufferedBytes)) / Math.Max(1, estimate));
            if (queued == 0) room = Math.Max(room, 1);
            var outstanding = Interlocked.Read(ref session.Outstanding);
            grant = room - outstanding;
            if (grant <= 0 || (outstanding > 0 && grant < Math.Max(1, _options.ReadAhead / 2))) return;
            grant = Math.Min(grant, uint.MaxValue);
            Interlocked.Add(ref session.Outstanding, grant);
        }

        var flow = new BaseCommand
        {
            Type = CommandType.Flow,
            Flow = new CommandFlow { ConsumerId = session.ConsumerId, MessagePermits = (uint)grant },
        };
        _ = SendQuietlyAsync(session.Connection, flow);
    }

    private async Task SendQuietlyAsync(PulsarConnection connection, BaseCommand command)
    {
        try
        {
            await connection.SendAsync(command, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            // The connection is going away: its read loop reports that, and a new subscription gets new permits.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        await _supervising.ConfigureAwait(false);
        Session? session;
        lock (_gate)
        {
            session = _session;
            _session = null;
        }

        if (session is not null) await session.Connection.DisposeAsync().ConfigureAwait(false);
        _messages.Writer.TryComplete();
        _stop.Dispose();
    }

    /// <summary>One subscription on one connection.</summary>
    private sealed class Session(PulsarChannelReader reader, PulsarConnection connection, ulong consumerId) : IPulsarConsumerHandler
    {
        /// <summary>Permits the broker still has by this client's count (a batch takes one per message, so it can go below 0).</summary>
        public long Outstanding;

        public PulsarConnection Connection { get; } = connection;

        public ulong ConsumerId { get; } = consumerId;

        public TaskCompletionSource<Exception> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnMessage(PulsarFrame frame) => reader.OnMessage(this, frame);

        public void OnClosedByBroker() => Ended.TrySetResult(new IOException("the broker closed the consumer (CLOSE_CONSUMER)"));

        public void OnConnectionLost(Exception reason) => Ended.TrySetResult(reason);
    }
}
