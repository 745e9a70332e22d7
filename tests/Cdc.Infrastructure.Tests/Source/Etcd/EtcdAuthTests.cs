using System.Text;
using Cdc.Infrastructure.Source.Etcd;
using Cdc.Testing;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Cdc.Infrastructure.Tests.Source.Etcd;

/// <summary>
/// enableAuth against a private etcd with auth on and auth tokens that expire after two idle seconds (etcd checks its
/// simple tokens once a second, so one expires 2 to 3 s after its last use). With one second, the full suite on 2 cores
/// once failed a put: the token the client had just renewed went stale again before the put reached etcd.
/// </summary>
public sealed class EtcdAuthTests
{
    private const string User = "root";
    private const string Password = "s3cret-Pa55";

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task With_auth_the_client_authenticates_and_renews_expired_tokens_for_calls_and_watches()
    {
        var ct = EtcdTestStore.Deadline(60);
        await using var server = await EtcdProcess.StartAsync(["--auth-token-ttl", "2"], ct);
        await server.EnableAuthAsync(User, Password, ct);
        var options = new EtcdOptions { Address = [server.Url], RequestTimeout = TimeSpan.FromSeconds(10), WatchReconnectLimit = 10 };

        using (var anonymous = new EtcdClient(options, TimeProvider.System))
            await Assert.ThrowsAsync<EtcdException>(() => anonymous.PutAsync("by-dev/meta/k", Utf8("x"), ct));

        var counting = new AuthenticationCounter();
        using var etcd = new EtcdClient(options with { EnableAuth = true, Username = User, Password = Password }, TimeProvider.System, [counting]);
        var first = await etcd.PutAsync("by-dev/meta/k", Utf8("v1"), ct);
        Assert.Equal("v1", Encoding.UTF8.GetString((await etcd.GetAsync("by-dev/meta/k", ct))!.Value.Span));
        Assert.Equal(1, counting.Authentications); // the token is kept for the calls that follow

        await Task.Delay(TimeSpan.FromSeconds(4), ct); // the token expires
        await etcd.PutAsync("by-dev/meta/k", Utf8("v2"), ct);
        Assert.Equal(2, (await etcd.RangeAsync("by-dev/meta/", 0, ct)).Entries.Single().Version);

        await Task.Delay(TimeSpan.FromSeconds(4), ct); // expires again: the watch is created with a stale token
        var changes = await etcd.WatchAsync("by-dev/meta/", first, true, ct).Take(2).ToListAsync(ct);
        Assert.Equal(["v1", "v2"], changes.Select(c => Encoding.UTF8.GetString(c.Value.Span)));
        Assert.Equal(3, counting.Authentications); // the first token, then one renewal per expiry
    }

    [Fact]
    public async Task A_wrong_password_is_an_error_that_names_the_endpoint_and_not_the_password()
    {
        var ct = EtcdTestStore.Deadline(60);
        await using var server = await EtcdProcess.StartAsync([], ct);
        await server.EnableAuthAsync(User, Password, ct);
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        const string wrongPassword = "not-the-Pa55word";
        var options = new EtcdOptions
        {
            // The first endpoint is down: the client goes on to the second, and logs that it did.
            Address = ["127.0.0.1:1", server.Url],
            EnableAuth = true, Username = User, Password = wrongPassword, RequestTimeout = TimeSpan.FromSeconds(10),
        };
        using var wrong = new EtcdClient(options, TimeProvider.System, factory.CreateLogger<EtcdClient>());

        var error = await Assert.ThrowsAsync<EtcdException>(() => wrong.GetAsync("by-dev/meta/k", ct));
        var watchError = await Assert.ThrowsAsync<EtcdException>(async () => await wrong.WatchAsync("by-dev/meta/", 0, true, ct).FirstAsync(ct));

        Assert.Contains("authentication failed", error.Message);
        Assert.Contains(server.Url, error.Message);
        Assert.DoesNotContain(wrongPassword, error.ToString());
        Assert.DoesNotContain(wrongPassword, watchError.ToString());
        Assert.Contains("127.0.0.1:1", logs.All);
        Assert.DoesNotContain(wrongPassword, logs.All);
    }

    /// <summary>Counts the client's calls of etcd's Auth.Authenticate.</summary>
    private sealed class AuthenticationCounter : Interceptor
    {
        private int _authentications;

        public int Authentications => Volatile.Read(ref _authentications);

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
            TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        {
            if (context.Method.ServiceName == "etcdserverpb.Auth" && context.Method.Name == "Authenticate")
                Interlocked.Increment(ref _authentications);
            return continuation(request, context);
        }
    }
}
