using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Confluent.Kafka;

namespace Cdc.Infrastructure.Source.Kafka;

/// <summary>
/// Reads partition 0 of one Kafka topic (a Milvus pchannel). The blocking <c>Consume</c> runs on a thread of its own
/// and hands messages over through a buffer capped in messages and in bytes (one message larger than the byte cap
/// still passes, alone), so a slow caller holds the consumer back instead of growing memory. A large message's array is
/// rented (see <see cref="MessageBytesDeserializer"/>) and lent to the caller until it completes the message
/// (<see cref="LentMessageArrays{TPoint}"/>).
/// </summary>
internal sealed class KafkaChannelReader : ISourceChannelReader
{
    private readonly IConsumer<Ignore, ArraySegment<byte>> _consumer;
    private readonly Channel<SourceMessage> _messages;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _taken = new(0);
    private readonly long _maxBytes;
    private readonly Task _consuming;
    private readonly TimeSpan _queryTimeout;
    private readonly SemaphoreSlim _consumerInUse = new(1, 1); // a query of the broker against disposal of the consumer
    private long _bufferedBytes;
    private int _bufferedMessages;
    private int _disposed;
    private long _nextOffset; // the offset the consumer is to deliver next (consumer thread only)
    private readonly ArrayPool<byte> _pool;
    private readonly LentMessageArrays<long> _lent; // by offset: handed to the caller, not yet completed

    public KafkaChannelReader(
        IConsumer<Ignore, ArraySegment<byte>> consumer, string channel, int readAhead, long maxBytes = long.MaxValue, SourcePosition? startsAfter = null,
        long firstOffset = 0, TimeSpan? queryTimeout = null, ArrayPool<byte>? pool = null)
    {
        _pool = pool ?? ArrayPool<byte>.Shared;
        _lent = new LentMessageArrays<long>(_pool);
        _consumer = consumer;
        _queryTimeout = queryTimeout ?? TimeSpan.FromSeconds(10);
        _nextOffset = firstOffset;
        Channel = channel;
        StartsAfter = startsAfter;
        _maxBytes = Math.Max(1, maxBytes);
        _messages = System.Threading.Channels.Channel.CreateBounded<SourceMessage>(
            new BoundedChannelOptions(Math.Max(1, readAhead)) { SingleReader = true, SingleWriter = true });
        _consuming = Task.Factory.StartNew(Consume, CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public string Channel { get; }

    public SourcePosition? StartsAfter { get; }

    public async IAsyncEnumerable<SourceMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var message in _messages.Reader.ReadAllAsync(cancellationToken))
        {
            Interlocked.Add(ref _bufferedBytes, -message.Payload.Length);
            Interlocked.Decrement(ref _bufferedMessages);
            _taken.Release();
            if (PooledArrayOf(message) is { } array) _lent.Lend(((KafkaOffset)message.Id).Offset, array);

            yield return message;
        }
    }

    public long BufferedBytes => Interlocked.Read(ref _bufferedBytes);

    public int BufferedMessages => Volatile.Read(ref _bufferedMessages);

    /// <summary>
    /// The newest message of partition 0: one below the high watermark the broker reports now (ListOffsets, asked
    /// through <c>QueryWatermarkOffsets</c>; the watermark <c>GetWatermarkOffsets</c> caches from fetch responses is
    /// not used, since it stops moving while the prefetch queue is full). Null for an empty or not yet created topic.
    /// </summary>
    public async Task<SourcePosition?> NewestAsync(CancellationToken cancellationToken)
    {
        await _consumerInUse.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            // Blocking broker round trips (each bounded by the timeout): off the caller's thread.
            var high = await Task.Run(() =>
            {
                try
                {
                    return HighWatermark();
                }
                catch (KafkaException e)
                {
                    throw new SourceChannelException(Channel, $"cannot ask for the newest offset: {e.Error.Code}: {e.Error.Reason}", e);
                }
            }, cancellationToken).ConfigureAwait(false);
            return high > 0 ? new SourcePosition(Channel, KafkaMessageId.FromOffset(high - 1)) : null;
        }
        finally
        {
            _consumerInUse.Release();
        }
    }

    /// <summary>
    /// The partition's high watermark; 0 when the broker says the topic does not exist. The client's own metadata
    /// lags behind a topic created a moment ago (it answers "unknown partition" for about half a second after the
    /// first write), so that answer is checked with the broker before it counts as "nothing written".
    /// </summary>
    private long HighWatermark()
    {
        var partition = new TopicPartition(Channel, new Partition(0));
        try
        {
            return _consumer.QueryWatermarkOffsets(partition, _queryTimeout).High.Value;
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.UnknownTopicOrPart)
        {
            return 0;
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_UnknownTopic or ErrorCode.Local_UnknownPartition)
        {
            using var admin = new DependentAdminClientBuilder(_consumer.Handle).Build();
            var topic = admin.GetMetadata(Channel, _queryTimeout).Topics.SingleOrDefault(t => t.Topic == Channel);
            if (topic is null || topic.Error.Code == ErrorCode.UnknownTopicOrPart || topic.Partitions.All(p => p.PartitionId != 0)) return 0;
            // The metadata answer refreshed the client's: asked again (a failure now is "cannot tell", not "nothing").
            return _consumer.QueryWatermarkOffsets(partition, _queryTimeout).High.Value;
        }
    }

    /// <summary>
    /// The arrays of the large messages handed out up to <paramref name="completed"/>'s offset go back to the pool:
    /// the caller holds none of those payloads any more.
    /// </summary>
    public void Completed(SourcePosition completed)
    {
        var offset = KafkaMessageId.ToOffset(completed.MessageId.Span);
        _lent.ReturnCompleted(last => last <= offset);
    }

    private static byte[]? PooledArrayOf(SourceMessage message) =>
        MemoryMarshal.TryGetArray(message.Payload, out var segment) && MessageBytesDeserializer.IsPooled(segment) ? segment.Array : null;

    /// <summary>Offsets in order.</summary>
    public bool Reached(SourcePosition completed, SourcePosition newest) =>
        KafkaMessageId.ToOffset(completed.MessageId.Span) >= KafkaMessageId.ToOffset(newest.MessageId.Span);

    /// <summary>Blocks the consumer thread while <paramref name="size"/> more bytes would overflow a non-empty buffer.</summary>
    private void WaitForRoom(long size)
    {
        while (Interlocked.Read(ref _bufferedBytes) is var buffered && buffered > 0 && buffered + size > _maxBytes)
            _taken.Wait(TimeSpan.FromMilliseconds(100), _stop.Token);
    }

    private void Consume()
    {
        Exception? failure = null;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = _consumer.Consume(_stop.Token);
                if (result?.Message is null || result.IsPartitionEOF) continue;
                var message = ToSourceMessage(result);
                _nextOffset = result.Offset.Value + 1;
                // On this dedicated thread blocking is fine: it is the back-pressure on the consumer.
                WaitForRoom(message.Payload.Length);
                Interlocked.Add(ref _bufferedBytes, message.Payload.Length);
                Interlocked.Increment(ref _bufferedMessages);
                if (!_messages.Writer.TryWrite(message))
                    _messages.Writer.WriteAsync(message, _stop.Token).AsTask().GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (ConsumeException e) when (e.Error.Code == ErrorCode.Local_AutoOffsetReset)
        {
            // The next offset is gone (auto.offset.reset=error): retention deleted it while this reader was behind.
            failure = new SourceChannelException(Channel,
                $"{KafkaSourceChannels.RetentionLost(_nextOffset, LowWatermark() ?? _nextOffset + 1)} ({e.Error.Reason})", e, retryable: false);
        }
        catch (ConsumeException e)
        {
            failure = new SourceChannelException(Channel, $"{e.Error.Code}: {e.Error.Reason}", e);
        }
        catch (KafkaException e)
        {
            failure = new SourceChannelException(Channel, $"{e.Error.Code}: {e.Error.Reason}", e);
        }
        catch (Exception e)
        {
            failure = new SourceChannelException(Channel, e.Message, e);
        }
        _messages.Writer.TryComplete(failure);
    }

    private long? LowWatermark()
    {
        try
        {
            return _consumer.QueryWatermarkOffsets(new TopicPartition(Channel, new Partition(0)), TimeSpan.FromSeconds(5)).Low.Value;
        }
        catch (KafkaException)
        {
            return null;
        }
    }

    private SourceMessage ToSourceMessage(ConsumeResult<Ignore, ArraySegment<byte>> result)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        if (result.Message.Headers is { } headers)
        {
            foreach (var header in headers)
            {
                var value = header.GetValueBytes();
                properties[header.Key] = value is null ? "" : Encoding.UTF8.GetString(value);
            }
        }
        var offset = result.Offset.Value;
        return new SourceMessage(Channel, new KafkaOffset(offset), properties, result.Message.Value);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        await _consuming.ConfigureAwait(false);
        _messages.Writer.TryComplete();
        // Read from the MQ but never handed out: nobody else holds these. (Handed out and not completed: left to the GC.)
        while (_messages.Reader.TryRead(out var unread))
        {
            if (PooledArrayOf(unread) is { } array) _pool.Return(array);
        }

        await _consumerInUse.WaitAsync().ConfigureAwait(false); // a query under way ends within its timeout
        try
        {
            _consumer.Close(); // an assigned consumer without a group membership: only releases the fetcher
        }
        catch (KafkaException)
        {
            // closing a consumer whose broker is gone: nothing to release remotely
        }
        _consumer.Dispose();
        _stop.Dispose();
        _taken.Dispose();
        _consumerInUse.Release();
    }
}
