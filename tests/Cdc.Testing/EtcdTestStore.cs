using Cdc.Infrastructure.Source.Etcd;


namespace Cdc.Testing;

/// <summary>The etcd scripts/test.sh started, and a key prefix of its own for each test.</summary>
public static class EtcdTestStore
{
    public static string Endpoint => TestEnvironment.Require("CDC_TEST_ETCD");

    public static EtcdOptions Options(int pageSize = 1000) => new()
    {
        Address = [Endpoint],
        RangePageSize = pageSize,
        RequestTimeout = TimeSpan.FromSeconds(10),
        WatchReconnectLimit = 20,
    };

    public static EtcdClient Client(int pageSize = 1000) => new(Options(pageSize), TimeProvider.System);

    /// <summary>A client whose endpoints are <paramref name="proxies"/> (in that order) in front of this etcd.</summary>
    public static EtcdClient ClientThrough(params TcpProxy[] proxies) =>
        new(Options() with { Address = [.. proxies.Select(p => p.Address)] }, TimeProvider.System);

    public static string UniquePrefix(string test) => $"cdc-test/{test}/{Guid.NewGuid():N}/";

    /// <summary>A time limit for one test, so a hung watch fails the test instead of the run.</summary>
    public static CancellationToken Deadline(int seconds = 20) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}
