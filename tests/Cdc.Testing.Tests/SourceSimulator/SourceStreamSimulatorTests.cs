using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Testing.Tests.SourceSimulator;

/// <summary>The simulator's messages, read back through the real Kafka reader and decoder.</summary>
public sealed class SourceStreamSimulatorTests
{
    private readonly MsgStreamDecoder _decoder = new();
    private readonly ManualTimeProvider _time = new();

    [Theory]
    [InlineData(SourceMilvusVersion.V2_4)]
    [InlineData(SourceMilvusVersion.V2_5)]
    public async Task DML_channel_messages_decode_with_the_properties_of_their_version(SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(60);
        using var producer = KafkaTestBroker.Producer();
        var pchannel = KafkaTestBroker.UniqueTopic("sim") + "-rootcoord-dml_0";
        var vchannel = pchannel + "_445v0";
        var sim = new SourceStreamSimulator(producer, version, _time);
        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(pchannel, SourceChannelStart.Latest, ct);

        var insert = await sim.InsertAsync(vchannel, 445, 446, [1, 2], [[1f, 2f], [3f, 4f]], ct);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var delete = await sim.DeleteAsync(vchannel, 445, [2], ct);
        var dropPartition = Assert.Single(await sim.DropPartitionAsync(445, 447, "p1", [vchannel], ct));
        var dropCollection = Assert.Single(await sim.DropCollectionAsync(445, [vchannel], ct));
        var tick = Assert.Single(await sim.TickAsync(ct));

        var read = await reader.ReadAllAsync(ct).Take(5).ToListAsync(ct);
        var changes = read.Select(m => _decoder.DecodeOrThrow(m)).ToList();

        Assert.Equal([pchannel], sim.PhysicalChannels);
        Assert.Equal(
            [ChangeKind.Insert, ChangeKind.Delete, ChangeKind.DropPartition, ChangeKind.DropCollection, ChangeKind.TimeTick],
            changes.Select(c => c.Kind));
        Assert.Equal([insert.Offset, delete.Offset, dropPartition.Offset, dropCollection.Offset, tick.Offset],
            read.Select(m => ((KafkaOffset)m.Id).Offset));
        Assert.Equal([insert.Timestamp, delete.Timestamp, dropPartition.Timestamp, dropCollection.Timestamp, tick.Timestamp],
            changes.Select(c => c.Timestamp));
        Assert.True(changes.Zip(changes.Skip(1)).All(p => p.First.Timestamp < p.Second.Timestamp));
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds(), tick.Timestamp.PhysicalMilliseconds);

        var inserted = Assert.IsType<InsertChange>(changes[0]);
        Assert.Equal((445L, 446L, vchannel, 2L), (inserted.CollectionId, inserted.PartitionId, inserted.ShardName, inserted.RowCount));
        Assert.Equal(inserted.Timestamp, inserted.LastRowTimestamp);
        Assert.Equal(["pk", "vec"], inserted.Columns.Select(c => c.Name));
        var deleted = Assert.IsType<DeleteChange>(changes[1]);
        Assert.Equal(new Int64PrimaryKeys([2]), deleted.PrimaryKeys);
        Assert.Equal(447L, Assert.IsType<DropPartitionChange>(changes[2]).PartitionId);

        if (version == SourceMilvusVersion.V2_4)
        {
            Assert.Equal("Insert", read[0].Properties["msg_type"]);
            Assert.Equal("Delete", Assert.Single(read[1].Properties).Value);
            Assert.All(read.Skip(2), m => Assert.Empty(m.Properties));
        }
        else
        {
            Assert.All(read, m => Assert.Equal(["msg_type", "replicate_id", "timestamp", "vchannel"], m.Properties.Keys.Order()));
            Assert.Equal(vchannel, read[0].Properties["vchannel"]);
            Assert.Equal(pchannel, read[4].Properties["vchannel"]);
            Assert.Equal("TimeTick", read[4].Properties["msg_type"]);
            Assert.Equal(tick.Timestamp.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), read[4].Properties["timestamp"]);
        }
    }

    [Theory]
    [InlineData(SourceMilvusVersion.V2_4)]
    [InlineData(SourceMilvusVersion.V2_5)]
    public async Task Replicate_channel_ops_decode(SourceMilvusVersion version)
    {
        var ct = KafkaTestBroker.Deadline(60);
        using var producer = KafkaTestBroker.Producer();
        var replicate = KafkaTestBroker.UniqueTopic("sim") + "-replicate-msg";
        var sim = new SourceStreamSimulator(producer, version, _time, replicate);
        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(replicate, SourceChannelStart.Latest, ct);

        await sim.CreateDatabaseAsync("sales", new Dictionary<string, string> { ["database.max.collections"] = "5" }, ct);
        await sim.CreateIndexAsync("sales", "books", "vec", "vec_idx", new Dictionary<string, string> { ["index_type"] = "HNSW" }, ct);
        await sim.LoadCollectionAsync("sales", "books", 2, ct);
        await sim.LoadPartitionsAsync("sales", "books", ["p1"], 1, ct);
        await sim.ReleasePartitionsAsync("sales", "books", ["p1"], ct);
        await sim.ReleaseCollectionAsync("sales", "books", ct);
        await sim.FlushAsync("sales", ["books"], ct);
        await sim.DropIndexAsync("sales", "books", "vec", "vec_idx", ct);
        await sim.DropDatabaseAsync("sales", ct);

        var changes = (await reader.ReadAllAsync(ct).Take(9).ToListAsync(ct)).Select(m => _decoder.DecodeOrThrow(m)).ToList();

        Assert.Empty(sim.PhysicalChannels);
        Assert.Equal(
            [ChangeKind.CreateDatabase, ChangeKind.CreateIndex, ChangeKind.LoadCollection, ChangeKind.LoadPartitions, ChangeKind.ReleasePartitions,
             ChangeKind.ReleaseCollection, ChangeKind.Flush, ChangeKind.DropIndex, ChangeKind.DropDatabase],
            changes.Select(c => c.Kind));
        Assert.All(changes, c => Assert.Equal(replicate, c.Origin.Channel));
        Assert.Equal("5", Assert.IsType<CreateDatabaseChange>(changes[0]).Properties["database.max.collections"]);
        var index = Assert.IsType<CreateIndexChange>(changes[1]);
        Assert.Equal(("sales", "books", "vec", "vec_idx", "HNSW"), (index.DbName, index.CollectionName, index.FieldName, index.IndexName, index.Parameters["index_type"]));
        Assert.Equal(2, Assert.IsType<LoadCollectionChange>(changes[2]).ReplicaNumber);
        Assert.Equal(["p1"], Assert.IsType<LoadPartitionsChange>(changes[3]).PartitionNames);
        Assert.Equal(["books"], Assert.IsType<FlushChange>(changes[6]).CollectionNames);
    }
}
