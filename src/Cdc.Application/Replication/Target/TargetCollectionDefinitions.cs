using Cdc.Domain.SourceMeta;

namespace Cdc.Application.Replication.Target;

/// <summary>How a source collection is created on the target (reference CDC: schema, shards, consistency, properties).</summary>
public static class TargetCollectionDefinitions
{
    /// <summary>
    /// The target definition of <paramref name="collection"/>. The schema bytes keep the source collection's name,
    /// so a differently named target collection needs its schema rewritten first (not done here).
    /// </summary>
    public static TargetCollectionDefinition From(SourceCollection collection) =>
        new(collection.Name,
            collection.Schema.Serialized,
            collection.ShardsNum,
            (TargetConsistencyLevel)(int)collection.ConsistencyLevel,
            collection.Properties);
}
