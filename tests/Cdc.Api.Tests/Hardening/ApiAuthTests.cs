using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;

namespace Cdc.Api.Tests.Hardening;

/// <summary>A server with two API tokens, given as one comma-separated environment variable (CDC_apiAuth__tokens).</summary>
public sealed class TokenServer : ServerProcessFixture
{
    public const string FirstToken = "cdc-test-token-3f9a1c7e5b2d4068";
    public const string SecondToken = "cdc-second-token-a7c41e09d35b8f26";

    protected override void Configure(IDictionary<string, string> settings) => settings["apiAuth:tokens"] = $"{FirstToken},{SecondToken}";
}

/// <summary>A server whose metrics need a token too (apiAuth.protectMetrics).</summary>
public sealed class MetricsTokenServer : ServerProcessFixture
{
    protected override void Configure(IDictionary<string, string> settings)
    {
        settings["apiAuth:tokens:0"] = TokenServer.FirstToken;
        settings["apiAuth:protectMetrics"] = "true";
    }
}

/// <summary>
/// With API tokens configured, every path but health, readiness and (by default) the metrics needs
/// <c>Authorization: Bearer</c> with one of them; without, the answer is 401 in the envelope with
/// <c>WWW-Authenticate: Bearer</c>, and nothing is done.
/// </summary>
public sealed class ApiAuthTests(TokenServer server) : IClassFixture<TokenServer>
{
    public static readonly TheoryData<string, string, string?> ProtectedRequests = new()
    {
        { "POST", "/cdc", """{"request_type":"list"}""" },
        { "POST", "/cdc", """{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"*"}]}}""" },
        { "POST", "/cdc", """{"request_type":"delete","request_data":{"task_id":"abc"}}""" },
        { "POST", "/cdc", "not even json" },
        { "GET", "/cdc", null },
        { "PROPFIND", "/cdc", null },
        { "GET", "/cdc/events?after=0", null },
        { "GET", "/cdc/tasks/abc/events", null },
        { "GET", "/a/path/served/later", null },
        { "GET", "/CDC/EVENTS", null },
        { "POST", "/healthz", "{}" },
    };

    [Theory]
    [MemberData(nameof(ProtectedRequests))]
    public async Task Without_a_token_every_path_but_the_open_ones_is_a_401_envelope(string method, string path, string? body)
    {
        var answer = (await server.SendAsync(method, path, body is null ? null : Encoding.UTF8.GetBytes(body))).AssertEnvelope(401);

        Assert.Contains("Authorization: Bearer <token>", answer.Message);
        Assert.Equal("Bearer", answer.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [InlineData("Bearer wrong-token-of-enough-length")]
    [InlineData("Bearer " + TokenServer.FirstToken + "x")]
    [InlineData("Bearer " + "CDC-TEST-TOKEN-3F9A1C7E5B2D4068")]
    [InlineData("Basic " + TokenServer.FirstToken)]
    [InlineData(TokenServer.FirstToken)]
    [InlineData("Bearer")]
    public async Task A_wrong_token_or_scheme_is_a_401_and_nothing_is_stored(string authorization)
    {
        var before = await HighWaterMarkAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/cdc")
        {
            Content = new StringContent("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"*"}]}}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await server.Server.Client.SendAsync(request);

        var answer = new Answer((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers, response.Content.Headers).AssertEnvelope(401);
        Assert.Equal("Bearer", answer.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(before, await HighWaterMarkAsync());
    }

    [Theory]
    [InlineData(TokenServer.FirstToken)]
    [InlineData(TokenServer.SecondToken)]
    public async Task Each_configured_token_opens_the_API(string token)
    {
        var created = await server.PostAsync(
            """{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"*"}]}}""", token);
        Assert.Equal(200, created.Status);
        var id = created.Json["data"]!["task_id"]!.GetValue<string>();

        var got = await server.PostAsync($$$"""{"request_type":"get","request_data":{"task_id":"{{{id}}}"}}""", token);
        Assert.Equal(id, got.Json["data"]!["Task"]!["task_id"]!.GetValue<string>());
        var events = await server.SendAsync("GET", $"/cdc/tasks/{id}/events", token: token);
        Assert.Equal("task_created", events.Json["data"]!["events"]![0]!["type"]!.GetValue<string>());
        // "bearer" is case-insensitive (RFC 7235 §2.1).
        using var lower = new HttpRequestMessage(HttpMethod.Get, "/cdc/events?after=0&limit=1");
        lower.Headers.TryAddWithoutValidation("Authorization", $"bearer {token}");
        Assert.Equal(200, (int)(await server.Server.Client.SendAsync(lower)).StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/cdc/metrics")]
    public async Task Health_readiness_and_metrics_stay_open(string path)
    {
        var answer = await server.SendAsync("GET", path);
        Assert.Equal(200, answer.Status);
    }

    [Fact]
    public async Task Tokens_never_reach_the_log()
    {
        await server.PostAsync("""{"request_type":"list"}""", TokenServer.SecondToken);
        await server.PostAsync("""{"request_type":"list"}""", TokenServer.FirstToken + "-wrong");
        await server.SendAsync("GET", "/nowhere", token: TokenServer.FirstToken);

        Assert.DoesNotContain(TokenServer.FirstToken, server.Server.Output);
        Assert.DoesNotContain(TokenServer.SecondToken, server.Server.Output);
    }

    private async Task<long> HighWaterMarkAsync()
    {
        var answer = await server.SendAsync("GET", "/cdc/events?after=0&limit=1", token: TokenServer.FirstToken);
        return answer.Json["data"]!["high_water_mark"]!.GetValue<long>();
    }
}

public sealed class ProtectedMetricsTests(MetricsTokenServer server) : IClassFixture<MetricsTokenServer>
{
    [Fact]
    public async Task Metrics_need_the_token_when_protectMetrics_is_on()
    {
        (await server.SendAsync("GET", "/cdc/metrics")).AssertEnvelope(401);
        var scraped = await server.SendAsync("GET", "/cdc/metrics", token: TokenServer.FirstToken);
        Assert.Equal(200, scraped.Status);
        Assert.Contains("milvus_cdc_request_total", scraped.Text);
        Assert.Equal(200, (await server.SendAsync("GET", "/healthz")).Status);
        Assert.Equal(200, (await server.SendAsync("GET", "/readyz")).Status);
    }
}

/// <summary>A server that serves HTTPS only (apiTls), with a certificate of a test CA that the client trusts.</summary>
public sealed class TlsServer : ServerProcessFixture
{
    private readonly TestCertificateAuthority _ca = new("cdc-api-test-ca");

    public X509Certificate2 Authority => _ca.Certificate;

    protected override void Configure(IDictionary<string, string> settings)
    {
        var certificate = _ca.IssueServer("localhost");
        settings["apiTls:certPath"] = certificate.CertificatePemPath;
        settings["apiTls:keyPath"] = certificate.KeyPemPath;
    }

    protected override HttpMessageHandler CreateHandler() => new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(_ca.Certificate);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            },
        },
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _ca.Dispose();
    }
}

public sealed class ApiTlsTests(TlsServer server) : IClassFixture<TlsServer>
{
    [Fact]
    public async Task The_listener_serves_https_with_the_configured_certificate()
    {
        Assert.Equal("https", server.Server.Address.Scheme);
        var answer = await server.PostAsync("""{"request_type":"list"}""");
        Assert.Equal(200, answer.Status);
        Assert.Empty(answer.Json["data"]!["tasks"]!.AsArray());
    }

    [Fact]
    public async Task Plain_http_gets_no_answer_on_the_tls_port()
    {
        using var plain = new HttpClient { BaseAddress = new UriBuilder(server.Server.Address) { Scheme = "http" }.Uri };
        using var content = new StringContent("""{"request_type":"list"}""", Encoding.UTF8, "application/json");
        var answer = await Record.ExceptionAsync(async () =>
        {
            using var response = await plain.PostAsync("/cdc", content);
            Assert.NotEqual(200, (int)response.StatusCode);
        });
        Assert.True(answer is null or HttpRequestException, $"unexpected: {answer}");
    }
}
