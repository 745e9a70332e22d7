using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cdc.Testing;

/// <summary>
/// The real server (Cdc.Api's Program) in memory, with configs/cdc.yaml, its own fresh database and the given
/// config overrides (keys as in cdc.yaml, ':'-separated). Its log lines are captured.
/// </summary>
public sealed class CdcApp : IAsyncDisposable
{
    /// <summary>
    /// Config overrides for a server without a replication engine (a source address that names no server, and the
    /// engine's registration removed), so the replication host reports NotConfigured and no task tries to reach a
    /// source. The default of <see cref="StartAsync"/> when the overrides name no <c>sourceConfig</c> key.
    /// </summary>
    public static Dictionary<string, string> WithoutReplicationEngine() => new() { ["sourceConfig:pulsar:address"] = NoSource };

    private const string NoSource = "pulsar://no-replication-engine.invalid:6650";

    public const string SecretKey = "k2Ya0cK1bQ3dJ8m4XfT9vW6yZ0pL5sN7eR2uH8iO1aE=";

    private readonly WebApplicationFactory<Program> _factory;

    private CdcApp(PostgresDatabase database, WebApplicationFactory<Program> factory, CapturedLogs logs, bool kestrel)
    {
        Database = database;
        _factory = factory;
        Logs = logs;
        if (kestrel)
        {
            // Real sockets: Kestrel on the address the config names (cdc.yaml's "address"), a client that connects to it.
            factory.UseKestrel();
            factory.StartServer();
        }

        Client = factory.CreateClient();
    }

    public PostgresDatabase Database { get; }
    public HttpClient Client { get; }
    public CapturedLogs Logs { get; }
    public IServiceProvider Services => _factory.Services;

    /// <param name="overrides">Config overrides, keys as in cdc.yaml (':'-separated).</param>
    /// <param name="database">The database to use (a fresh one when null); disposed with the app.</param>
    /// <param name="services">Extra service registrations.</param>
    /// <param name="kestrel">
    /// Serve over real HTTP (Kestrel on the configured <c>address</c>, which should then name a free loopback port)
    /// instead of the in-memory test server.
    /// </param>
    /// <param name="minimumLogLevel">The least level logged (captured and written by the default providers).</param>
    public static async Task<CdcApp> StartAsync(
        IDictionary<string, string>? overrides = null,
        PostgresDatabase? database = null,
        Action<IServiceCollection>? services = null,
        bool kestrel = false,
        LogLevel minimumLogLevel = LogLevel.Trace)
    {
        database ??= await PostgresDatabase.CreateAsync();
        var logs = new CapturedLogs();
        var settings = new Dictionary<string, string>
        {
            ["metaStoreConfig:postgres:connectionString"] = database.ConnectionString,
            ["metaStoreConfig:secretKey"] = SecretKey,
        };
        // configs/cdc.yaml points at a source that does not exist here: unless a test says which source to read,
        // the server runs without the engine, so tasks are not retried against nothing in the background.
        if (overrides is null || !overrides.Keys.Any(k => k.StartsWith("sourceConfig:", StringComparison.OrdinalIgnoreCase)))
            foreach (var (k, v) in WithoutReplicationEngine()) settings[k] = v;
        foreach (var (k, v) in overrides ?? new Dictionary<string, string>()) settings[k] = v;
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("config", RepositoryRoot.File_("configs/cdc.yaml"));
            foreach (var (k, v) in settings) b.UseSetting($"cdc:{k}", v);
            b.ConfigureLogging(l => l.SetMinimumLevel(minimumLogLevel).AddFilter(level => level >= minimumLogLevel));
            b.ConfigureServices(s =>
            {
                s.AddSingleton<ILoggerProvider>(logs);
                if (settings.GetValueOrDefault("sourceConfig:pulsar:address") == NoSource) s.RemoveAll<Cdc.Application.Replication.Supervision.ITaskReplication>();
                services?.Invoke(s);
            });
        });
        var app = new CdcApp(database, factory, logs, kestrel);
        return app;
    }

    /// <summary>POSTs an envelope to /cdc and returns the HTTP status and parsed body.</summary>
    public async Task<(int Status, JsonObject Body)> PostAsync(string requestType, object? requestData = null)
    {
        var envelope = new JsonObject { ["request_type"] = requestType };
        if (requestData is not null) envelope["request_data"] = requestData as JsonNode ?? System.Text.Json.JsonSerializer.SerializeToNode(requestData);
        return await PostRawAsync(envelope.ToJsonString());
    }

    public async Task<(int Status, JsonObject Body)> PostRawAsync(string body, string contentType = "application/json")
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        using var response = await Client.PostAsync("/cdc", content);
        return ((int)response.StatusCode, await ReadAsync(response));
    }

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Creates a task like the seed's create call and returns its id.</summary>
    public async Task<string> CreateSeedTaskAsync(string token = "root:Milvus")
    {
        var (status, body) = await PostAsync("create", SeedCreate(token));
        if (status != 200) throw new InvalidOperationException($"create failed: {body.ToJsonString()}");
        return body["data"]!["task_id"]!.GetValue<string>();
    }

    public static JsonObject SeedCreate(string token = "root:Milvus") => new()
    {
        ["milvus_connect_param"] = new JsonObject { ["uri"] = "http://localhost:19530", ["token"] = token, ["connect_timeout"] = 10 },
        ["collection_infos"] = new JsonArray(new JsonObject { ["name"] = "*" }),
    };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}
