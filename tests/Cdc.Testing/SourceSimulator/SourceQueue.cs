using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Testing.FakePulsar;

namespace Cdc.Testing.SourceSimulator;

/// <summary>The message queue of a simulated source Milvus (the two a Milvus 2.3-2.5 can use).</summary>
public enum SourceQueueKind
{
    /// <summary>librdkafka's mock cluster, which scripts/test.sh starts (CDC_TEST_KAFKA).</summary>
    Kafka,

    /// <summary>A <see cref="FakePulsarBroker"/> on a loopback port of this process.</summary>
    Pulsar,
}

/// <summary>
/// The message queue of a simulated source: what the <see cref="SourceStreamSimulator"/> writes through, the CDC's
/// reader of it (<see cref="ISourceChannels"/>), and the server's config keys that make it read there.
/// </summary>
public sealed class SourceQueue : IAsyncDisposable
{
    private readonly KafkaTestProducer? _kafka;
    private readonly PulsarSourceWriter? _pulsar;
    private readonly bool _ownsBroker;

    private SourceQueue(SourceQueueKind kind, KafkaTestProducer? kafka, FakePulsarBroker? broker, PulsarSourceWriter? pulsar, bool ownsBroker)
    {
        Kind = kind;
        _kafka = kafka;
        PulsarBroker = broker;
        _pulsar = pulsar;
        _ownsBroker = ownsBroker;
    }

    /// <summary>The Kafka mock of the test run, or a new fake Pulsar broker (stopped with this queue).</summary>
    public static SourceQueue Start(SourceQueueKind kind) => kind switch
    {
        SourceQueueKind.Kafka => Kafka(KafkaTestBroker.Producer()),
        _ => Pulsar(FakePulsarBroker.Start(), ownsBroker: true),
    };

    /// <summary>The Kafka mock, written through <paramref name="producer"/> (disposed with this queue).</summary>
    public static SourceQueue Kafka(KafkaTestProducer producer) => new(SourceQueueKind.Kafka, producer, null, null, false);

    /// <summary>A fake Pulsar broker, written over the wire in <paramref name="format"/> (by default as Milvus 2.3-2.5 writes).</summary>
    public static SourceQueue Pulsar(FakePulsarBroker broker, bool ownsBroker = false, PulsarEntryFormat? format = null) =>
        new(SourceQueueKind.Pulsar, null, broker, new PulsarSourceWriter(broker.ServiceUrl, format), ownsBroker);

    public SourceQueueKind Kind { get; }

    /// <summary>The fake broker of a Pulsar queue (for faults: connections dropped, consumers closed, bad frames), else null.</summary>
    public FakePulsarBroker? PulsarBroker { get; }

    /// <summary>What the simulator writes through.</summary>
    public ISourceQueueWriter Writer => (ISourceQueueWriter?)_kafka ?? _pulsar!;

    /// <summary>
    /// The CDC's reader of this queue, with the test settings of each (Pulsar: 10 s round trips, reconnect pauses of at
    /// most 200 ms); <paramref name="pulsar"/> adjusts the Pulsar options, e.g. to the server's.
    /// </summary>
    public ISourceChannels Channels(Func<PulsarSourceOptions, PulsarSourceOptions>? pulsar = null) => Kind switch
    {
        SourceQueueKind.Kafka => KafkaTestBroker.Channels(),
        _ => PulsarTestSource.Channels(PulsarBroker!, pulsar),
    };

    /// <summary>The server's config keys (as in cdc.yaml, ':'-separated) that make it read this queue.</summary>
    public IReadOnlyDictionary<string, string> ServerSettings => Kind switch
    {
        SourceQueueKind.Kafka => new Dictionary<string, string>
        {
            ["sourceConfig:kafka:address"] = KafkaTestBroker.Bootstrap,
            ["sourceConfig:pulsar:address"] = "",
        },
        _ => new Dictionary<string, string>
        {
            ["sourceConfig:kafka:address"] = "",
            ["sourceConfig:pulsar:address"] = PulsarBroker!.ServiceUrl,
            ["sourceConfig:pulsar:tenant"] = PulsarTestSource.Tenant,
            ["sourceConfig:pulsar:namespace"] = PulsarTestSource.Namespace,
        },
    };

    /// <summary>
    /// How the server names a message's position in an error: "kafka offset 12", or "pulsar 101:7:0:0" (MessageIdData
    /// ledger:entry:partition:batch index).
    /// </summary>
    public static string PositionText(SourceMessageId id) => id switch
    {
        KafkaOffset kafka => $"kafka offset {kafka.Offset}",
        PulsarMessageId pulsar => $"pulsar {pulsar.LedgerId}:{pulsar.EntryId}:{pulsar.Partition}:{pulsar.BatchIndex}",
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "neither a Kafka offset nor a Pulsar message id"),
    };

    public async ValueTask DisposeAsync()
    {
        _kafka?.Dispose();
        if (_pulsar is not null) await _pulsar.DisposeAsync();
        if (_ownsBroker && PulsarBroker is not null) await PulsarBroker.DisposeAsync();
    }
}
