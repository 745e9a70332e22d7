using System.Collections.Concurrent;
using Cdc.Domain.Changes;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Testing.FakePulsar;

/// <summary>
/// Writes a simulated source's messages into Pulsar over the wire, as Milvus 2.3-2.5 does: channel <c>c</c> is the
/// topic <c>persistent://{tenant}/{namespace}/c</c> (milvus-io/milvus pkg/mq/msgstream/mqwrapper/pulsar/pulsar_client.go),
/// the msgstream headers are message properties, and each message goes out in the entry format given (by default a
/// ZSTD batch of one, as the pinned pulsar-client-go v0.6.10 sends it). One <see cref="PulsarTestProducer"/> per topic,
/// opened on first use; writes to one topic go one at a time.
/// </summary>
public sealed class PulsarSourceWriter(string serviceUrl, PulsarEntryFormat? format = null, string tenant = PulsarTestSource.Tenant,
    string @namespace = PulsarTestSource.Namespace, string? token = null) : ISourceQueueWriter, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TopicProducer> _producers = new(StringComparer.Ordinal);

    public PulsarEntryFormat Format { get; } = format ?? PulsarEntryFormat.Milvus;

    public string TopicOf(string channel) => $"persistent://{tenant}/{@namespace}/{channel}";

    /// <summary>
    /// Writes one message; its id is the MessageIdData Milvus stores: the entry's ledger and entry, partition 0 (a
    /// non-partitioned topic), batch index 0 in a batch entry, -1 in a plain one.
    /// </summary>
    public async Task<SourceMessageId> WriteAsync(
        string channel, byte[] payload, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken)
    {
        var topic = _producers.GetOrAdd(channel, c => new TopicProducer(TopicOf(c)));
        await topic.Gate.WaitAsync(cancellationToken);
        try
        {
            topic.Producer ??= await PulsarTestProducer.ConnectAsync(serviceUrl, topic.Name, token, cancellationToken);
            var id = await topic.Producer.SendAsync(new PulsarTestMessage(properties, payload), Format, cancellationToken);
            return new PulsarMessageId(id.LedgerId, id.EntryId, 0, Format is PulsarEntryFormat.PlainEntry ? -1 : 0);
        }
        finally
        {
            topic.Gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var topic in _producers.Values)
        {
            if (topic.Producer is { } producer) await producer.DisposeAsync();
            topic.Gate.Dispose();
        }

        _producers.Clear();
    }

    private sealed class TopicProducer(string name)
    {
        public string Name { get; } = name;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public PulsarTestProducer? Producer { get; set; }
    }
}
