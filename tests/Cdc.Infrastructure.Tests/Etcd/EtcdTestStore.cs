using Cdc.Infrastructure.Etcd;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Etcd;

/// <summary>The etcd scripts/test.sh started, and a key prefix of its own for each test.</summary>
internal static class EtcdTestStore
{
    public static EtcdOptions Options(int pageSize = 1000) => new()
    {
        Address = [TestEnvironment.Require("CDC_TEST_ETCD")],
        RangePageSize = pageSize,
        RequestTimeout = TimeSpan.FromSeconds(10),
        WatchReconnectLimit = 20,
    };

    public static EtcdClient Client(int pageSize = 1000) => new(Options(pageSize), TimeProvider.System);

    public static string UniquePrefix(string test) => $"cdc-test/{test}/{Guid.NewGuid():N}/";

    /// <summary>A time limit for one test, so a hung watch fails the test instead of the run.</summary>
    public static CancellationToken Deadline(int seconds = 20) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}

/// <summary>
/// The etcd tests run one after another: the compaction test drops history that another test's watch or
/// ranged read at an old revision would otherwise need.
/// </summary>
[CollectionDefinition(Name)]
public sealed class EtcdCollection
{
    public const string Name = "etcd";
}
