using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cdc.Testing;

namespace Cdc.Api.Tests.Hardening;

/// <summary>
/// The real server in an OS process of its own (Kestrel on a loopback port, configured through CDC_ environment
/// variables) on a fresh database, without a replication engine, shared by the tests of a class. Raw requests go
/// through <see cref="SendAsync"/>, which can send any method, any bytes and a chunked body.
/// </summary>
public abstract class ServerProcessFixture : IAsyncLifetime
{
    public PostgresDatabase Database { get; private set; } = null!;

    public CdcServerProcess Server { get; private set; } = null!;

    /// <summary>The token sent when a call does not name one (none by default).</summary>
    protected virtual string? DefaultToken => null;

    /// <summary>Settings beside the database's, keys as in cdc.yaml (':'-separated).</summary>
    protected virtual void Configure(IDictionary<string, string> settings)
    {
    }

    protected virtual HttpMessageHandler? CreateHandler() => null;

    public async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync();
        var settings = new Dictionary<string, string>(CdcApp.WithoutReplicationEngine())
        {
            ["metaStoreConfig:postgres:connectionString"] = Database.ConnectionString,
            ["metaStoreConfig:secretKey"] = CdcApp.SecretKey,
        };
        Configure(settings);
        using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        Server = await CdcServerProcess.StartAsync(settings, startup.Token, CreateHandler());
    }

    public virtual async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }

    /// <summary>One raw request. A null <paramref name="contentType"/> sends no Content-Type header.</summary>
    public async Task<Answer> SendAsync(
        string method, string path, byte[]? body = null, string? contentType = "application/json", bool chunked = false, string? token = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            // A stream of unknown length goes out chunked; a byte array with its Content-Length.
            request.Content = chunked ? new StreamContent(new UnknownLengthStream(body)) : new ByteArrayContent(body);
            if (chunked) request.Headers.TransferEncodingChunked = true;
            if (contentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if ((token ?? DefaultToken) is { } bearer) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await Server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Answer((int)response.StatusCode, text, response.Headers, response.Content.Headers);
    }

    public Task<Answer> PostAsync(string json, string? token = null) => SendAsync("POST", "/cdc", Encoding.UTF8.GetBytes(json), token: token);

    /// <summary>The event store's high-water mark: it moves with every event appended.</summary>
    public async Task<long> HighWaterMarkAsync()
    {
        var answer = await SendAsync("GET", "/cdc/events?after=0&limit=1");
        Assert.Equal(200, answer.Status);
        return answer.Json["data"]!["high_water_mark"]!.GetValue<long>();
    }

    public async Task<int> TaskCountAsync()
    {
        var answer = await PostAsync("""{"request_type":"list"}""");
        Assert.Equal(200, answer.Status);
        return answer.Json["data"]!["tasks"]!.AsArray().Count;
    }

    /// <summary>A request body stream that does not tell its length, so that HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>An HTTP answer: status, body text and headers.</summary>
public sealed record Answer(int Status, string Text, HttpResponseHeaders Headers, HttpContentHeaders ContentHeaders)
{
    public JsonObject Json => JsonNode.Parse(Text)?.AsObject() ?? throw new InvalidOperationException($"not a JSON object: {Text}");

    public string Message => Json["message"]?.GetValue<string>() ?? "";

    /// <summary>Asserts the documented error envelope: a JSON object with code = the HTTP status and a message.</summary>
    public Answer AssertEnvelope(int status)
    {
        Assert.True(status == Status, $"expected HTTP {status}, got {Status}: {Text}");
        Assert.Equal("application/json", ContentHeaders.ContentType?.MediaType);
        var json = Json;
        Assert.Equal(status, json["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(json["message"]?.GetValue<string>()), $"no message in {Text}");
        Assert.Null(json["data"]);
        return this;
    }
}
