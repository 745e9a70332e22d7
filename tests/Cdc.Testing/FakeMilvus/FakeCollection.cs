namespace Cdc.Testing.FakeMilvus;

/// <summary>A snapshot of one collection held by the fake target.</summary>
public sealed record FakeCollection(
    string DbName,
    string Name,
    long Id,
    int ShardsNum,
    IReadOnlyList<string> VirtualChannels,
    IReadOnlyList<string> PhysicalChannels,
    IReadOnlyDictionary<string, long> Partitions,
    IReadOnlyList<FakeIndex> Indexes,
    bool IsLoaded,
    IReadOnlyList<string> LoadedPartitions,
    int ConsistencyLevel,
    IReadOnlyDictionary<string, string> Properties,
    byte[] Schema);

public sealed record FakeIndex(string FieldName, string IndexName, IReadOnlyDictionary<string, string> Parameters);

/// <summary>
/// A row of a collection, written by a replicated insert or an Upsert: its primary key (long or string), partition id
/// and timestamp, and its values (field name to a one-row column; none when the fake applies no rows).
/// </summary>
public sealed record FakeRow(object PrimaryKey, long PartitionId, ulong Timestamp)
{
    public IReadOnlyDictionary<string, Cdc.Infrastructure.Milvus.Protos.Schema.FieldData> Fields { get; init; } =
        new Dictionary<string, Cdc.Infrastructure.Milvus.Protos.Schema.FieldData>();
}
