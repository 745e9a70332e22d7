using Cdc.Infrastructure.Source.Pulsar.Protos;

namespace Cdc.Testing.FakePulsar;

/// <summary>The topics brokers of one fake cluster share, and which broker owns each.</summary>
public sealed class FakePulsarCluster
{
    private readonly Dictionary<string, FakePulsarTopic> _topics = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FakePulsarBroker> _owners = new(StringComparer.Ordinal);
    private readonly List<FakePulsarBroker> _brokers = [];
    private long _nextLedger = 100;

    /// <summary>
    /// When set, a topic keeps only its newest entries up to about this many payload bytes (always the last one), as a
    /// namespace's retention size limit (retentionSizeInMB) removes what no durable subscription holds: for long runs
    /// (benchmarks) whose readers keep up. A reader behind what is kept goes on from the oldest entry kept.
    /// </summary>
    public long? RetentionBytesPerTopic { get; init; }

    /// <summary>The topic of that name (full name, persistent://tenant/namespace/name), created on first use.</summary>
    public FakePulsarTopic Topic(string name)
    {
        lock (_topics)
        {
            if (!_topics.TryGetValue(name, out var topic))
                _topics[name] = topic = new FakePulsarTopic(name, this);
            return topic;
        }
    }

    internal long NewLedgerId() => Interlocked.Increment(ref _nextLedger);

    internal void Join(FakePulsarBroker broker)
    {
        lock (_brokers) _brokers.Add(broker);
    }

    internal void Leave(FakePulsarBroker broker)
    {
        lock (_brokers) _brokers.Remove(broker);
    }

    /// <summary>Makes <paramref name="broker"/> the owner of a topic; other brokers refuse to serve it.</summary>
    public void Assign(string topic, FakePulsarBroker broker)
    {
        lock (_owners) _owners[topic] = broker;
    }

    /// <summary>The owner of a topic: the one assigned, else the first broker of the cluster.</summary>
    public FakePulsarBroker Owner(string topic)
    {
        lock (_owners)
        {
            if (_owners.TryGetValue(topic, out var owner)) return owner;
        }

        lock (_brokers) return _brokers[0];
    }
}

/// <summary>One stored entry: its id and the metadata and payload exactly as the producer sent them.</summary>
public sealed record FakePulsarEntry(long LedgerId, long EntryId, MessageMetadata Metadata, byte[] Payload)
{
    public int MessageCount => Metadata.HasNumMessagesInBatch ? Metadata.NumMessagesInBatch : 1;
}

/// <summary>A topic: its entries in order, with ledger and entry ids as BookKeeper gives them (entries from 0 per ledger).</summary>
public sealed class FakePulsarTopic
{
    private readonly List<FakePulsarEntry> _entries = [];
    private readonly Dictionary<string, DurableSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly List<FakeConsumer> _consumers = [];
    private readonly FakePulsarCluster _cluster;
    private long _ledger;
    private long _nextEntry;

    // Entries removed by retention from the front of _entries: indexes into the topic stay those of the appends.
    private int _removed;
    private long _keptBytes;

    internal FakePulsarTopic(string name, FakePulsarCluster cluster)
    {
        Name = name;
        _cluster = cluster;
        _ledger = cluster.NewLedgerId();
    }

    public string Name { get; }

    /// <summary>Raised (outside the lock) after an entry is stored.</summary>
    internal event Action? Appended;

    /// <summary>The entry id the next entry appended gets (in the current ledger).</summary>
    public long NextEntryId
    {
        get
        {
            lock (_entries) return _nextEntry;
        }
    }

    /// <summary>Entries appended so far (those retention removed included: the index of the next entry).</summary>
    public int Count
    {
        get
        {
            lock (_entries) return _removed + _entries.Count;
        }
    }

    /// <summary>The entry appended as the <paramref name="index"/>-th (from 0), if retention still keeps it.</summary>
    public FakePulsarEntry this[int index]
    {
        get
        {
            lock (_entries)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(index, _removed);
                return _entries[index - _removed];
            }
        }
    }

    /// <summary>The entries kept, in order.</summary>
    public IReadOnlyList<FakePulsarEntry> Entries
    {
        get
        {
            lock (_entries) return _entries.ToList();
        }
    }

    /// <summary>The id of the last entry, or (current ledger, -1) for a topic with none, as a broker answers GET_LAST_MESSAGE_ID.</summary>
    public MessageIdData LastMessageId()
    {
        lock (_entries)
        {
            if (_entries.Count == 0) return new MessageIdData { LedgerId = (ulong)_ledger, EntryId = unchecked((ulong)-1L), Partition = -1, BatchIndex = -1 };
            var last = _entries[^1];
            return new MessageIdData
            {
                LedgerId = (ulong)last.LedgerId,
                EntryId = (ulong)last.EntryId,
                Partition = -1,
                BatchIndex = last.Metadata.HasNumMessagesInBatch ? last.MessageCount - 1 : -1,
            };
        }
    }

    /// <summary>Stores an entry as sent (the payload is kept compressed, as a broker keeps it).</summary>
    public FakePulsarEntry Append(MessageMetadata metadata, byte[] payload)
    {
        FakePulsarEntry entry;
        lock (_entries)
        {
            entry = new FakePulsarEntry(_ledger, _nextEntry++, metadata, payload);
            _entries.Add(entry);
            _keptBytes += payload.Length;
            while (_cluster.RetentionBytesPerTopic is { } retention && _keptBytes > retention && _entries.Count > 1)
            {
                _keptBytes -= _entries[0].Payload.Length;
                _entries.RemoveAt(0);
                _removed++;
            }
        }

        Appended?.Invoke();
        return entry;
    }

    /// <summary>Appends messages in the given format, as a producer would; returns the stored entries.</summary>
    public IReadOnlyList<FakePulsarEntry> Append(IReadOnlyList<PulsarTestMessage> messages, PulsarEntryFormat format)
    {
        var sequence = 0UL;
        return format.Entries(messages, "fake-appender", () => sequence++, TimeProvider.System)
            .Select(e => Append(e.Metadata, e.Payload)).ToList();
    }

    /// <summary>Closes the current ledger: later entries go to a new ledger (a higher id), from entry 0.</summary>
    public void RollLedger()
    {
        lock (_entries)
        {
            _ledger = _cluster.NewLedgerId();
            _nextEntry = 0;
        }
    }

    /// <summary>
    /// The entry at a consumer's cursor, which then moves past it; a cursor on entries retention removed moves to the
    /// oldest one kept first. False at the end of the topic.
    /// </summary>
    internal bool TryTake(ref int cursor, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FakePulsarEntry? entry)
    {
        lock (_entries)
        {
            cursor = Math.Max(cursor, _removed);
            if (cursor >= _removed + _entries.Count)
            {
                entry = null;
                return false;
            }

            entry = _entries[cursor++ - _removed];
            return true;
        }
    }

    /// <summary>Consumers attached now.</summary>
    public int ConsumerCount
    {
        get
        {
            lock (_entries) return _consumers.Count;
        }
    }

    /// <summary>
    /// Attaches a consumer and tells where its cursor starts: a durable subscription resumes after what was
    /// acknowledged (a new one at its initial position); a non-durable one starts at its start_message_id. An Exclusive
    /// subscription with a consumer already attached is refused.
    /// </summary>
    internal bool TryAttach(FakeConsumer consumer, out int start)
    {
        var subscribe = consumer.Subscribe;
        lock (_entries)
        {
            if (subscribe.SubType == CommandSubscribe.Types.SubType.Exclusive
                && _consumers.Any(c => c.IsActive && c.Subscribe.Subscription == subscribe.Subscription))
            {
                start = -1;
                return false;
            }

            var initial = subscribe.InitialPosition == CommandSubscribe.Types.InitialPosition.Earliest ? _removed : _removed + _entries.Count;
            if (subscribe.Durable)
            {
                if (!_subscriptions.TryGetValue(subscribe.Subscription, out var durable))
                    _subscriptions[subscribe.Subscription] = durable = new DurableSubscription(initial);
                start = durable.FirstUnacknowledged(_entries, _removed);
            }
            else
            {
                start = subscribe.StartMessageId is { } id ? IndexAfter(id) : initial;
            }

            _consumers.Add(consumer);
            return true;
        }
    }

    internal void Detach(FakeConsumer consumer)
    {
        lock (_entries) _consumers.Remove(consumer);
    }

    internal void RemoveSubscription(string subscription)
    {
        lock (_entries) _subscriptions.Remove(subscription);
    }

    internal void Acknowledge(string subscription, CommandAck ack)
    {
        lock (_entries)
        {
            if (!_subscriptions.TryGetValue(subscription, out var durable)) return;
            foreach (var id in ack.MessageId)
            {
                var key = ((long)id.LedgerId, (long)id.EntryId);
                if (ack.AckType == CommandAck.Types.AckType.Cumulative) durable.MarkDeleted = key;
                else durable.Acknowledged.Add(key);
            }
        }
    }

    /// <summary>
    /// The index of the first entry a cursor positioned by a start message id reads: the entry itself for a batch
    /// message id (the client drops what it had read), the entry after it otherwise, as a broker's non-durable cursor.
    /// </summary>
    internal int IndexAfter(MessageIdData start)
    {
        var ledger = (long)start.LedgerId;
        var entryId = (long)start.EntryId;
        var inclusive = start.BatchIndex >= 0;
        lock (_entries)
        {
            for (var i = 0; i < _entries.Count; i++)
            {
                var e = _entries[i];
                var cmp = e.LedgerId != ledger ? e.LedgerId.CompareTo(ledger) : e.EntryId.CompareTo(entryId);
                if (cmp > 0 || (cmp == 0 && inclusive)) return _removed + i;
            }

            return _removed + _entries.Count;
        }
    }

    /// <summary>A durable cursor: where it was created, the entries acknowledged one by one, and the cumulative mark.</summary>
    private sealed class DurableSubscription(int createdAt)
    {
        public HashSet<(long Ledger, long Entry)> Acknowledged { get; } = [];

        public (long Ledger, long Entry) MarkDeleted { get; set; } = (-1, -1);

        public int FirstUnacknowledged(List<FakePulsarEntry> entries, int removed)
        {
            for (var i = Math.Max(createdAt, removed); i < removed + entries.Count; i++)
            {
                var key = (entries[i - removed].LedgerId, entries[i - removed].EntryId);
                if (key.CompareTo(MarkDeleted) > 0 && !Acknowledged.Contains(key)) return i;
            }

            return removed + entries.Count;
        }
    }
}
