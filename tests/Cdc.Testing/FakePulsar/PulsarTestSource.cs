using System.Text;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Cdc.Testing.FakePulsar;

namespace Cdc.Testing.FakePulsar;

/// <summary>Shared helpers of the Pulsar tests: a fake broker, readers on it, and message ids as Milvus stores them.</summary>
public static class PulsarTestSource
{
    public const string Tenant = "public";
    public const string Namespace = "default";

    public static CancellationToken Deadline(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public static string UniqueChannel(string name) => $"by-dev-{name}-{Guid.NewGuid():N}"[..40];

    public static string TopicOf(string channel) => $"persistent://{Tenant}/{Namespace}/{channel}";

    public static PulsarSourceOptions Options(string serviceUrl) => new()
    {
        ServiceUrl = serviceUrl,
        Tenant = Tenant,
        Namespace = Namespace,
        OperationTimeout = TimeSpan.FromSeconds(10),
        MaxReconnectBackoff = TimeSpan.FromMilliseconds(200),
    };

    public static PulsarSourceChannels Channels(FakePulsarBroker broker, Func<PulsarSourceOptions, PulsarSourceOptions>? adjust = null) =>
        new((adjust ?? (o => o))(Options(broker.ServiceUrl)));

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public static string Text(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    public static PulsarTestMessage Message(string payload, params (string Key, string Value)[] properties) =>
        new(properties.ToDictionary(p => p.Key, p => p.Value), Utf8(payload));

    public static IReadOnlyList<PulsarTestMessage> Messages(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => Message($"{prefix}{i}")).ToList();

    /// <summary>The position Milvus would store for a message: MessageIdData with partition 0.</summary>
    public static SourcePosition Position(string channel, long ledger, long entry, int batchIndex = -1) =>
        new(channel, SourceMessageIdCodec.ToBytes(new PulsarMessageId((ulong)ledger, (ulong)entry, 0, batchIndex)));

    public static SourcePosition Position(string channel, FakePulsarEntry entry, int batchIndex = -1) =>
        Position(channel, entry.LedgerId, entry.EntryId, batchIndex);

    public static PulsarMessageId Id(FakePulsarEntry entry, int batchIndex = -1) => new((ulong)entry.LedgerId, (ulong)entry.EntryId, 0, batchIndex);

    public static async Task<List<SourceMessage>> ReadAsync(ISourceChannelReader reader, int count, CancellationToken ct) =>
        await reader.ReadAllAsync(ct).Take(count).ToListAsync(ct);

    /// <summary>Waits until <paramref name="condition"/> holds (no timing asserted: the deadline only ends a hung test).</summary>
    public static async Task Until(Func<bool> condition, CancellationToken ct)
    {
        while (!condition()) await Task.Delay(20, ct);
    }

    public static MessageMetadata PlainMetadata() => new() { ProducerName = "test", SequenceId = 0, PublishTime = 0 };
}
