using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Source.Kafka;
using Cdc.Infrastructure.Target;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.SourceSimulator;
using Google.Protobuf;
using Msg = Cdc.Infrastructure.Milvus.Protos.Msg;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.EndToEnd;

/// <summary>
/// The DML path end to end: simulated source messages in Kafka → KafkaChannelReader → MsgStreamDecoder →
/// TimeTickPacker → TargetChannelWriter (id and timestamp rewrite) → ReplicateMessage on the fake target, for one
/// collection with 2 shards on 2 pchannels, plus an unselected collection sharing a pchannel.
/// </summary>
public sealed class DmlReplicationPathTests
{
    private const long SourceCollection = 445;
    private const long SourcePartition = 446;
    private const long OtherCollection = 999;

    [Theory]
    [InlineData(SourceMilvusVersion.V2_4)]
    [InlineData(SourceMilvusVersion.V2_5)]
    public async Task Rows_written_to_the_source_arrive_on_the_target_in_order(SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(90);
        await using var server = await FakeMilvusServer.StartAsync(cancellationToken: ct);
        await using var target = new MilvusTargetFactory()
            .Create(new MilvusConnection(server.Uri.ToString(), string.Empty, TimeSpan.FromSeconds(5), MilvusDialConfig.None));
        var created = HybridTimestamp.FromTime(DateTimeOffset.UtcNow);
        await target.CreateCollectionAsync("default", new TargetCollectionDefinition(
            "books", Schema("books", dim: 2).ToByteArray(), 2, TargetConsistencyLevel.Bounded, new Dictionary<string, string>()), created, ct);
        var collection = (await target.DescribeCollectionAsync("default", "books", ct))!;
        var defaultPartition = (await target.ShowPartitionsAsync("default", "books", ct)).Single(p => p.Name == "_default").PartitionId;

        // Source: the selected collection has one shard on each of two pchannels; another collection shares pchannel 0.
        var prefix = KafkaTestBroker.UniqueTopic("dml-path");
        string[] sourcePChannels = [$"{prefix}-rootcoord-dml_0", $"{prefix}-rootcoord-dml_1"];
        string[] sourceVChannels = [$"{sourcePChannels[0]}_{SourceCollection}v0", $"{sourcePChannels[1]}_{SourceCollection}v1"];
        var otherVChannel = $"{sourcePChannels[0]}_{OtherCollection}v0";

        // Shards pair by sorted name (as zilliztech/milvus-cdc core/reader/replicate_channel_manager.go pairs them); a
        // source pchannel feeds the target pchannel of its shard.
        var routes = TestRoutes.Table(TestRoutes.Route(TestRoutes.Source(SourceCollection, "books", sourceVChannels), collection,
            [.. await target.ShowPartitionsAsync("default", "books", ct)]));
        var channelMap = sourcePChannels.ToDictionary(p => p, p => routes.TargetPhysicalChannelsOf(p).Single());
        Assert.Equal(2, channelMap.Values.Distinct().Count());

        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var writers = channelMap.Values.ToDictionary(
            c => c, c => new TargetChannelWriter(target, new TargetTimestampRewriter(c, new DmlMessageRewriter(), new ControlMessageFactory(), time), routes));
        var readers = new List<ISourceChannelReader>();
        foreach (var pchannel in sourcePChannels)
        {
            readers.Add(await KafkaTestBroker.Channels().OpenReaderAsync(pchannel, SourceChannelStart.Latest, ct));
        }

        try
        {
            using var producer = KafkaTestBroker.Producer();
            var sim = new SourceStreamSimulator(producer, version, time);
            foreach (var pchannel in sourcePChannels)
            {
                sim.AddPhysicalChannel(pchannel);
            }

            void Step() => time.Advance(TimeSpan.FromMilliseconds(200));

            await sim.TickAsync(ct);
            Step();
            await sim.InsertAsync(sourceVChannels[0], SourceCollection, SourcePartition, [1, 2, 3], Vectors(3), ct);
            await sim.InsertAsync(sourceVChannels[1], SourceCollection, SourcePartition, [11, 12], Vectors(2), ct);
            await sim.InsertAsync(otherVChannel, OtherCollection, 1000, [500], Vectors(1), ct);
            await sim.TickAsync(ct);
            Step();
            await sim.DeleteAsync(sourceVChannels[0], SourceCollection, [2], ct);
            var upsert = await Upsert(sim, sourceVChannels[1], [12], ct);
            await sim.TickAsync(ct);
            Step();
            // Time only: the writers replay after all this was written, so their clock stands still and this tick-only
            // pack is throttled (the first pack, a tick alone too, is not).
            await sim.TickAsync(ct);
            Step();
            Step();
            await sim.InsertAsync(sourceVChannels[0], SourceCollection, SourcePartition, [4], Vectors(1), ct);
            await sim.InsertAsync(sourceVChannels[1], SourceCollection, SourcePartition, [13], Vectors(1), ct);
            await sim.DeleteAsync(otherVChannel, OtherCollection, [500], ct);
            var last = (await sim.TickAsync(ct)).ToDictionary(m => m.Channel, m => m.Offset);

            var packer = new Func<string, TimeTickPacker>(channel => new TimeTickPacker(channel,
                c => c switch
                {
                    InsertChange i => i.CollectionId == SourceCollection,
                    DeleteChange d => d.CollectionId == SourceCollection,
                    _ => false,
                },
                new SourceMessageIdEncoder()));

            var results = await Task.WhenAll(readers.Select(reader =>
                Replicate(reader, packer(reader.Channel), writers[channelMap[reader.Channel]], last[reader.Channel], ct)));

            // Every pack's tick closes it, the last one at the last tick of each source channel; the tick-only pack is not sent.
            foreach (var (reader, written) in readers.Zip(results))
            {
                Assert.Equal(5, written.Count);
                Assert.Equal(SourceMessageIdCodec.KafkaBytes(last[reader.Channel]), written[^1].End.MessageId.ToArray());
                Assert.Equal([true, true, true, false, true], written.Select(w => w.Sent));
            }

            // The target holds exactly the selected rows, in the target partition, with the source row timestamps.
            var rows = server.Rows("default", "books").ToDictionary(r => (long)r.PrimaryKey);
            Assert.Equal([1L, 3L, 4L, 11L, 12L, 13L], rows.Keys.Order());
            Assert.All(rows.Values, r => Assert.Equal(defaultPartition, r.PartitionId));
            Assert.Equal(upsert.Value, rows[12].Timestamp);

            // Per target channel: the DML in source order (delete before insert of an upsert), framed by CDC ticks.
            var calls = server.CallsTo("ReplicateMessage").Select(c => c.RequestAs<Rpc.ReplicateMessageRequest>()).ToList();
            var byChannel = calls.GroupBy(c => c.ChannelName).ToDictionary(g => g.Key, g => g.ToList());
            Assert.Equal(channelMap.Values.Order(), byChannel.Keys.Order());
            Assert.Equal(
                ["tick", "tick", "Insert 1,2,3", "tick", "Delete 2", "tick", "Insert 4", "tick"],
                Describe(byChannel[channelMap[sourcePChannels[0]]]));
            Assert.Equal(
                ["tick", "tick", "Insert 11,12", "tick", "Delete 12", "Insert 12", "tick", "Insert 13", "tick"],
                Describe(byChannel[channelMap[sourcePChannels[1]]]));

            foreach (var requests in byChannel.Values)
            {
                var stamps = requests.SelectMany(r => r.Msgs.Select(m => Msg.TimeTickMsg.Parser.ParseFrom(m).Base.Timestamp)).ToList();
                Assert.True(stamps.Zip(stamps.Skip(1)).All(p => p.First <= p.Second), "timestamps never go back on a target channel");
                Assert.True(requests.Zip(requests.Skip(1)).All(p => p.First.EndTs < p.Second.EndTs && p.First.EndTs < p.Second.BeginTs));
                Assert.All(requests, r => Assert.Equal(-1, Msg.TimeTickMsg.Parser.ParseFrom(r.Msgs[^1]).Base.SourceID));
                Assert.All(requests, r => Assert.Equal(r.EndTs, Msg.TimeTickMsg.Parser.ParseFrom(r.Msgs[^1]).Base.Timestamp));
                Assert.All(requests, r => Assert.Equal(r.ChannelName, r.EndPositions.Single().ChannelName));
            }

            Assert.Empty(server.TimeViolations);
        }
        finally
        {
            foreach (var reader in readers)
            {
                await reader.DisposeAsync();
            }

            foreach (var writer in writers.Values)
            {
                writer.Dispose();
            }
        }
    }

    [Fact]
    public async Task Two_source_channels_sharing_a_target_channel_get_strictly_increasing_timestamps()
    {
        var ct = KafkaTestBroker.Deadline(90);
        await using var server = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { DmlChannelNum = 1 }, ct);
        await using var target = new MilvusTargetFactory()
            .Create(new MilvusConnection(server.Uri.ToString(), string.Empty, TimeSpan.FromSeconds(5), MilvusDialConfig.None));
        var created = HybridTimestamp.FromTime(DateTimeOffset.UtcNow);
        var targets = new Dictionary<long, TargetCollection>();
        foreach (var (sourceId, name) in new[] { (445L, "a"), (446L, "b") })
        {
            await target.CreateCollectionAsync("default", new TargetCollectionDefinition(
                name, Schema(name, dim: 2).ToByteArray(), 1, TargetConsistencyLevel.Bounded, new Dictionary<string, string>()), created, ct);
            targets[sourceId] = (await target.DescribeCollectionAsync("default", name, ct))!;
        }

        var targetChannel = targets[445].PhysicalChannels.Single();
        Assert.Equal(targetChannel, targets[446].PhysicalChannels.Single());
        var prefix = KafkaTestBroker.UniqueTopic("shared-target");
        string[] vchannels = [$"{prefix}-rootcoord-dml_0_445v0", $"{prefix}-rootcoord-dml_1_446v0"];
        var routes = TestRoutes.Table(
            TestRoutes.Route(TestRoutes.Source(445, "a", [vchannels[0]]), targets[445], [.. await target.ShowPartitionsAsync("default", "a", ct)]),
            TestRoutes.Route(TestRoutes.Source(446, "b", [vchannels[1]]), targets[446], [.. await target.ShowPartitionsAsync("default", "b", ct)]));
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var writer = new TargetChannelWriter(
            target, new TargetTimestampRewriter(targetChannel, new DmlMessageRewriter(), new ControlMessageFactory(), time), routes);
        var readers = new List<ISourceChannelReader>();
        foreach (var vchannel in vchannels)
        {
            readers.Add(await KafkaTestBroker.Channels().OpenReaderAsync(SourceStreamSimulator.PhysicalChannelOf(vchannel), SourceChannelStart.Latest, ct));
        }

        try
        {
            using var producer = KafkaTestBroker.Producer();
            var sim = new SourceStreamSimulator(producer, SourceMilvusVersion.V2_5, time);
            await sim.InsertAsync(vchannels[0], 445, 1, [1], Vectors(1), ct);
            var upsert = await sim.UpsertAsync(vchannels[1], 446, 1, [7, 8], Vectors(2), ct);
            await sim.InsertAsync(vchannels[1], 446, 1, [9], Vectors(1), ct);
            var last = (await sim.TickAsync(ct)).ToDictionary(m => m.Channel, m => m.Offset);

            // Channel 0 is replicated first; channel 1's pack then lies below what the target channel has seen.
            var results = new List<(bool Sent, SourcePosition End)>();
            foreach (var reader in readers)
            {
                results.AddRange(await Replicate(reader, new TimeTickPacker(reader.Channel, _ => true, new SourceMessageIdEncoder()), writer, last[reader.Channel], ct));
            }

            Assert.All(results, r => Assert.True(r.Sent));
            var calls = server.CallsTo("ReplicateMessage").Select(c => c.RequestAs<Rpc.ReplicateMessageRequest>()).ToList();
            Assert.Equal(2, calls.Count);
            var stamps = calls.SelectMany(r => r.Msgs.Select(m => Msg.TimeTickMsg.Parser.ParseFrom(m).Base.Timestamp)).ToList();
            Assert.Equal(["tick", "Insert 1", "tick", "Delete 7,8", "Insert 7,8", "Insert 9", "tick"], Describe(calls));

            // Shifted: max+1 for the upsert's delete and insert (equal source ts stay equal), max+2 for the next insert.
            var max = calls[0].EndTs;
            Assert.Equal([max + 1, max + 1, max + 2, max + 2], stamps.Skip(3));
            Assert.Equal((max + 1, max + 2), (calls[1].BeginTs, calls[1].EndTs));
            Assert.True(upsert[0].Timestamp.Value < max);
            var rows = server.Rows("default", "b").ToDictionary(r => (long)r.PrimaryKey);
            Assert.Equal([7L, 8L, 9L], rows.Keys.Order());
            Assert.Equal([max + 1, max + 1, max + 2], rows.Values.OrderBy(r => (long)r.PrimaryKey).Select(r => r.Timestamp));
            Assert.Equal(max + 2, writer.MaxSent.Value);
            Assert.Empty(server.TimeViolations);
        }
        finally
        {
            foreach (var reader in readers)
            {
                await reader.DisposeAsync();
            }
        }
    }

    /// <summary>A 2.4 upsert: Insert and Delete of the same keys at one timestamp, the insert first on the wire.</summary>
    private static async Task<HybridTimestamp> Upsert(SourceStreamSimulator sim, string vchannel, IReadOnlyList<long> keys, CancellationToken ct)
    {
        var written = await sim.UpsertAsync(vchannel, SourceCollection, SourcePartition, keys, Vectors(keys.Count), ct);
        Assert.Equal(["Insert", "Delete"], written.Select(m => m.MsgType));
        return written[0].Timestamp;
    }

    /// <summary>Reads a channel up to an offset, writing each pack; what each write did and the pack's closing position.</summary>
    private static async Task<List<(bool Sent, SourcePosition End)>> Replicate(
        ISourceChannelReader reader, TimeTickPacker packer, TargetChannelWriter writer, long lastOffset, CancellationToken ct)
    {
        var decoder = new MsgStreamDecoder();
        var results = new List<(bool Sent, SourcePosition End)>();
        await foreach (var message in reader.ReadAllAsync(ct))
        {
            var decoded = decoder.Decode(message);
            if (decoded.Change is null)
            {
                Assert.True(decoded.IsUnsupported, decoded.Failure?.ToString());
                packer.Skip(message.Id);
            }
            else if (packer.Add(decoded.Change) is { } pack)
            {
                results.Add((await writer.WriteAsync(pack, ct), pack.EndPosition));
            }

            if (((KafkaOffset)message.Id).Offset >= lastOffset)
            {
                break;
            }
        }

        return results;
    }

    private static IReadOnlyList<string> Describe(IEnumerable<Rpc.ReplicateMessageRequest> requests) =>
        [.. requests.SelectMany(r => r.Msgs).Select(bytes =>
        {
            var header = MsgHeader.Parser.ParseFrom(bytes);
            return header.Base.MsgType switch
            {
                MsgType.TimeTick => "tick",
                MsgType.Insert => "Insert " + string.Join(',', Msg.InsertRequest.Parser.ParseFrom(bytes).FieldsData.Single(f => f.FieldName == "pk").Scalars.LongData.Data),
                MsgType.Delete => "Delete " + string.Join(',', Msg.DeleteRequest.Parser.ParseFrom(bytes).PrimaryKeys.IntId.Data),
                var other => other.ToString(),
            };
        })];

    private static IReadOnlyList<float[]> Vectors(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new[] { i, i + 0.5f })];
}
