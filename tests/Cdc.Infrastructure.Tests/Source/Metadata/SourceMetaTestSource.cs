using Cdc.Infrastructure.Source.Etcd;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Infrastructure.Tests.Source.Metadata;

/// <summary>A simulated source Milvus in the test etcd under a rootPath of its own, and the reader of it.</summary>
internal sealed class SourceMetaTestSource : IDisposable
{
    public SourceMetaTestSource(string test)
    {
        Etcd = EtcdTestStore.Client();
        var rootPath = EtcdTestStore.UniquePrefix("source-meta-" + test).TrimEnd('/');
        Simulator = new SourceMetaSimulator(Etcd, new SourceMetaSimulatorOptions(RootPath: rootPath));
        Reader = new EtcdSourceMetadata(Etcd, Simulator.Layout);
    }

    public EtcdClient Etcd { get; }
    public SourceMetaSimulator Simulator { get; }
    public EtcdSourceMetadata Reader { get; }

    public void Dispose() => Etcd.Dispose();
}
