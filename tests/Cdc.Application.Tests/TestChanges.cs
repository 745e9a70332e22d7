using Cdc.Testing;
using Cdc.Application.Replication.Routing;
using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;

namespace Cdc.Application.Tests;

/// <summary>Hand-built decoded changes and stand-ins for the wire ports, for the packer and writer tests.</summary>
internal static class TestChanges
{
    public const string Channel = "by-dev-rootcoord-dml_0";
    public const long Collection = 100;

    public static HybridTimestamp Ts(long physical, int logical = 0) => HybridTimestamp.FromParts(1_700_000_000_000 + physical, logical);

    public static ChangeOrigin Origin(long offset, HybridTimestamp ts, string? vchannel = null, string channel = Channel) =>
        new(channel, new KafkaOffset(offset), vchannel, ts, 0, 1, false, string.Empty);

    public static InsertChange Insert(long offset, HybridTimestamp ts, long collection = Collection, string channel = Channel) =>
        new(Origin(offset, ts, $"{channel}_{collection}v0", channel), Encoding.UTF8.GetBytes($"insert@{offset}"), "default", "c", "_default",
            1, collection, 10, 0, $"{channel}_{collection}v0", 1, ts, ts, []);

    public static DeleteChange Delete(long offset, HybridTimestamp ts, long collection = Collection, string channel = Channel) =>
        new(Origin(offset, ts, $"{channel}_{collection}v0", channel), Encoding.UTF8.GetBytes($"delete@{offset}"), "default", "c", string.Empty,
            1, collection, 10, $"{channel}_{collection}v0", 1, new Int64PrimaryKeys([offset]));

    public static TimeTickChange Tick(long offset, HybridTimestamp ts, string channel = Channel) =>
        new(Origin(offset, ts, channel: channel), Array.Empty<byte>());

    public static CreateCollectionChange CreateCollection(long offset, HybridTimestamp ts, long collection = Collection) =>
        new(Origin(offset, ts), Array.Empty<byte>(), "default", "c", 1, collection, [10], [$"{Channel}_{collection}v0"], [Channel], Array.Empty<byte>());

    public static CreatePartitionChange CreatePartition(long offset, HybridTimestamp ts, long collection = Collection) =>
        new(Origin(offset, ts), Array.Empty<byte>(), "default", "c", "p1", 1, collection, 11);

    public static DropCollectionChange DropCollection(long offset, HybridTimestamp ts, long collection = Collection) =>
        new(Origin(offset, ts), Array.Empty<byte>(), "default", "c", 1, collection);

    public static DropPartitionChange DropPartition(long offset, HybridTimestamp ts, long collection = Collection) =>
        new(Origin(offset, ts), Array.Empty<byte>(), "default", "c", "p1", 1, collection, 11);

    public static FlushChange Flush(long offset, HybridTimestamp ts) =>
        new(Origin(offset, ts), Array.Empty<byte>(), "default", ["c"]);

    public static long Offset(SourcePosition position) => BinaryPrimitives.ReadInt64LittleEndian(position.MessageId.Span);

    public static DmlRewrite TargetIds(SourceChange change) => new(900, "target-dml_0_900v0", 910);

    /// <summary>The routes <see cref="TargetIds"/> stands for: collection <see cref="Collection"/> to target collection 900.</summary>
    public static RouteTable Routes() => TestRoutes.Table(TestRoutes.Route(
        TestRoutes.Source(Collection, "c", [$"{Channel}_{Collection}v0"]),
        new TargetCollection(900, "c", "default", 1, ["target-dml_0_900v0"], ["target-dml_0"], HybridTimestamp.Zero, ReadOnlyMemory<byte>.Empty),
        new TargetPartition("_default", 910)));

    /// <summary>Kafka offsets as 8 little-endian bytes, as Milvus stores them.</summary>
    public sealed class OffsetEncoder : ISourceMessageIdEncoder
    {
        public byte[] Encode(SourceMessageId id)
        {
            var bytes = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, ((KafkaOffset)id).Offset);
            return bytes;
        }
    }

    /// <summary>Writes "tick:&lt;ts&gt;" so tests can read the ticks back.</summary>
    public sealed class TextControlMessages : IControlMessageFactory
    {
        public byte[] BuildTimeTick(HybridTimestamp timestamp) => Encoding.UTF8.GetBytes($"tick:{timestamp.Value}");
    }

    /// <summary>Writes "&lt;payload&gt;|&lt;collection&gt;|&lt;ts or -&gt;" and remembers every rewrite.</summary>
    public sealed class TextRewriter : IDmlMessageRewriter
    {
        public List<(SourceChange Change, DmlRewrite Rewrite)> Calls { get; } = [];

        public ReadOnlySequence<byte> Rewrite(SourceChange change, DmlRewrite rewrite)
        {
            Calls.Add((change, rewrite));
            var ts = rewrite.Timestamp is { } t ? t.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-";
            return new(Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetString(change.Payload.Span)}|{rewrite.TargetCollectionId}|{ts}"));
        }
    }

    public static string Text(ReadOnlySequence<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
