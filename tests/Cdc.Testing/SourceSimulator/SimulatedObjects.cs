using Cdc.Domain.Changes;

namespace Cdc.Testing.SourceSimulator;

/// <summary>A database the simulator created.</summary>
public sealed record SimulatedDatabase(long Id, string Name, HybridTimestamp CreatedTimestamp);

/// <summary>A partition the simulator created (with its collection, or by CreatePartition).</summary>
public sealed record SimulatedPartition(long Id, long CollectionId, string Name, HybridTimestamp CreatedTimestamp);

/// <summary>
/// A collection the simulator created: its ids, channels and start positions as written to etcd.
/// <paramref name="FieldIds"/> maps every field name (system fields and <c>$meta</c> included) to its id.
/// </summary>
public sealed record SimulatedCollection(
    long Id,
    long DbId,
    string DbName,
    string Name,
    IReadOnlyList<string> VirtualChannels,
    IReadOnlyList<string> PhysicalChannels,
    IReadOnlyDictionary<string, SourceMessageId> StartPositions,
    IReadOnlyList<SimulatedPartition> Partitions,
    IReadOnlyDictionary<string, long> FieldIds,
    IReadOnlyList<long> FunctionIds,
    HybridTimestamp CreatedTimestamp);
