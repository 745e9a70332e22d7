
namespace Cdc.Domain.SourceMeta;

/// <summary>A collection's default consistency level, same numbers as Milvus' common.ConsistencyLevel.</summary>
public enum SourceConsistencyLevel
{
    Strong = 0,
    Session = 1,
    Bounded = 2,
    Eventually = 3,
    Customized = 4,
}
