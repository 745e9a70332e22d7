namespace Cdc.Infrastructure.Tests.Source.Etcd;

/// <summary>
/// The etcd tests run one after another: the compaction test drops history that another test's watch or
/// ranged read at an old revision would otherwise need.
/// </summary>
[CollectionDefinition(Name)]
public sealed class EtcdCollection
{
    public const string Name = "etcd";
}
