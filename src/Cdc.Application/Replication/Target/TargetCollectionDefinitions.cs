using Cdc.Domain.SourceMeta;

namespace Cdc.Application.Replication.Target;

/// <summary>How a source collection is created on the target (reference CDC: schema, shards, consistency, properties).</summary>
public static class TargetCollectionDefinitions
{
    /// <summary>
    /// The target definition of <paramref name="collection"/>, under <paramref name="name"/> on the target (the target
    /// client writes that name into the schema too).
    /// </summary>
    public static TargetCollectionDefinition From(SourceCollection collection, string? name = null) =>
        new(name ?? collection.Name,
            collection.Schema.Serialized,
            collection.ShardsNum,
            (TargetConsistencyLevel)(int)collection.ConsistencyLevel,
            collection.Properties);
}
