namespace Cdc.Testing.SourceSimulator;

/// <summary>
/// How the simulated source Milvus is configured: etcd rootPath/metaSubPath, the channel name prefix
/// (<c>msgChannel.chanNamePrefix.cluster</c>), the number of DML channels (<c>rootCoord.dmlChannelNum</c>), and
/// whether the suffix-snapshot history keys (<c>P/snapshots/…_ts&lt;ts&gt;</c>) are written next to each key.
/// </summary>
public sealed record SourceMetaSimulatorOptions(
    string RootPath = "by-dev",
    string MetaSubPath = "meta",
    string ClusterPrefix = "by-dev",
    int DmlChannelNum = 16,
    bool WriteSnapshotHistory = true)
{
    /// <summary>Milvus' default number of partitions of a partition-key collection (<c>_default_0</c> …).</summary>
    public int PartitionKeyPartitions { get; init; } = 16;
}
