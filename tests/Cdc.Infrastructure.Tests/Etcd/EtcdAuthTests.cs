using System.Text;
using System.Text.Json.Nodes;
using Cdc.Infrastructure.Etcd;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Etcd;

/// <summary>enableAuth against a private etcd with auth on and auth tokens that expire after one idle second.</summary>
public sealed class EtcdAuthTests
{
    private const string User = "root";
    private const string Password = "s3cret";

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task With_auth_the_client_authenticates_and_renews_expired_tokens_for_calls_and_watches()
    {
        var ct = EtcdTestStore.Deadline(60);
        await using var server = await EtcdProcess.StartAsync(["--auth-token-ttl", "1"], ct);
        var url = $"http://127.0.0.1:{server.ClientPort}";
        await EnableAuthAsync(url, ct);
        var options = new EtcdOptions { Address = [url], RequestTimeout = TimeSpan.FromSeconds(10), WatchReconnectLimit = 10 };

        using (var anonymous = new EtcdClient(options, TimeProvider.System))
            await Assert.ThrowsAsync<EtcdException>(() => anonymous.PutAsync("by-dev/meta/k", Utf8("x"), ct));
        using (var wrong = new EtcdClient(options with { EnableAuth = true, Username = User, Password = "wrong" }, TimeProvider.System))
        {
            var error = await Assert.ThrowsAsync<EtcdException>(() => wrong.GetAsync("by-dev/meta/k", ct));
            Assert.Contains("authentication failed", error.Message);
        }

        var counting = new AuthenticationCounter(new SocketsHttpHandler());
        using var etcd = new EtcdClient(options with { EnableAuth = true, Username = User, Password = Password }, TimeProvider.System, counting);
        var first = await etcd.PutAsync("by-dev/meta/k", Utf8("v1"), ct);
        Assert.Equal("v1", Encoding.UTF8.GetString((await etcd.GetAsync("by-dev/meta/k", ct))!.Value.Span));

        await Task.Delay(TimeSpan.FromSeconds(2.5), ct); // the token expires
        await etcd.PutAsync("by-dev/meta/k", Utf8("v2"), ct);
        Assert.Equal(2, (await etcd.RangeAsync("by-dev/meta/", 0, ct)).Entries.Single().Version);

        await Task.Delay(TimeSpan.FromSeconds(2.5), ct); // expires again: the watch is created with a stale token
        var changes = await etcd.WatchAsync("by-dev/meta/", first, true, ct).Take(2).ToListAsync(ct);
        Assert.Equal(["v1", "v2"], changes.Select(c => Encoding.UTF8.GetString(c.Value.Span)));
        Assert.Equal(3, counting.Authentications); // the first token, then one renewal per expiry
    }

    private sealed class AuthenticationCounter(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _authentications;

        public int Authentications => Volatile.Read(ref _authentications);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/auth/authenticate", StringComparison.Ordinal))
                Interlocked.Increment(ref _authentications);
            return base.SendAsync(request, cancellationToken);
        }
    }

    private static async Task EnableAuthAsync(string url, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        async Task Post(string path, JsonObject body)
        {
            using var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);
            response.EnsureSuccessStatusCode();
        }
        await Post("/v3/auth/user/add", new JsonObject { ["name"] = User, ["password"] = Password });
        await Post("/v3/auth/role/add", new JsonObject { ["name"] = "root" });
        await Post("/v3/auth/user/grant", new JsonObject { ["user"] = User, ["role"] = "root" });
        await Post("/v3/auth/enable", new JsonObject());
    }
}
