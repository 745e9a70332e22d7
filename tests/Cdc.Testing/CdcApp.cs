using System.Text.Json.Nodes;
using Alba;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cdc.Testing;

/// <summary>
/// The real server (Cdc.Api's Program) in memory on an Alba host, with configs/cdc.yaml, its own fresh database and
/// the given config overrides (keys as in cdc.yaml, ':'-separated). Its log lines are captured. Tests check its HTTP
/// answers with Alba scenarios on <see cref="Host"/> (see <see cref="CdcScenarioExtensions"/> for the envelope POST).
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

    private CdcApp(PostgresDatabase database, IAlbaHost host, CapturedLogs logs)
    {
        Database = database;
        Host = host;
        Logs = logs;
        Client = host.Server.CreateClient();
    }

    public PostgresDatabase Database { get; }

    /// <summary>The Alba host of the server: <c>Host.Scenario(...)</c> sends a request and checks the answer.</summary>
    public IAlbaHost Host { get; }

    /// <summary>A plain HTTP client of the in-memory server, for callers that drive it rather than check its answers.</summary>
    public HttpClient Client { get; }

    public CapturedLogs Logs { get; }

    public IServiceProvider Services => Host.Services;

    /// <param name="overrides">Config overrides, keys as in cdc.yaml (':'-separated).</param>
    /// <param name="database">The database to use (a fresh one when null); disposed with the app.</param>
    /// <param name="services">Extra service registrations.</param>
    /// <param name="minimumLogLevel">The least level logged (captured and written by the default providers).</param>
    public static async Task<CdcApp> StartAsync(
        IDictionary<string, string>? overrides = null,
        PostgresDatabase? database = null,
        Action<IServiceCollection>? services = null,
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
        try
        {
            var host = await AlbaHost.For<Program>(b =>
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
            return new CdcApp(database, host, logs);
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>The envelope <c>{"request_type": ..., "request_data": ...}</c> as JSON text (no request_data when null).</summary>
    public static string Envelope(string requestType, object? requestData = null)
    {
        var envelope = new JsonObject { ["request_type"] = requestType };
        if (requestData is not null) envelope["request_data"] = requestData as JsonNode ?? System.Text.Json.JsonSerializer.SerializeToNode(requestData);
        return envelope.ToJsonString();
    }

    /// <summary>POSTs an envelope to /cdc and returns the HTTP status and parsed body, whatever the status.</summary>
    public Task<(int Status, JsonObject Body)> PostAsync(string requestType, object? requestData = null) =>
        PostRawAsync(Envelope(requestType, requestData));

    /// <summary>POSTs <paramref name="body"/> to /cdc as it is and returns the HTTP status and parsed body, whatever the status.</summary>
    public async Task<(int Status, JsonObject Body)> PostRawAsync(string body, string contentType = "application/json")
    {
        var result = await Host.Scenario(s =>
        {
            s.PostCdc(body, contentType);
            s.IgnoreStatusCode();
        });
        return (result.Context.Response.StatusCode, JsonNode.Parse(await result.ReadAsTextAsync())!.AsObject());
    }

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Creates a task like the seed's create call (it must answer 200) and returns its id.</summary>
    public Task<string> CreateSeedTaskAsync(string token = "root:Milvus") => CreateTaskAsync(SeedCreate(token));

    /// <summary>Creates a task from <paramref name="requestData"/> (it must answer 200) and returns its id.</summary>
    public async Task<string> CreateTaskAsync(object requestData)
    {
        var result = await Host.Scenario(s =>
        {
            s.PostEnvelope("create", requestData);
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<JsonObject>())["data"]!["task_id"]!.GetValue<string>();
    }

    public static JsonObject SeedCreate(string token = "root:Milvus") => new()
    {
        ["milvus_connect_param"] = new JsonObject { ["uri"] = "http://localhost:19530", ["token"] = token, ["connect_timeout"] = 10 },
        ["collection_infos"] = new JsonArray(new JsonObject { ["name"] = "*" }),
    };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        await Database.DisposeAsync();
    }
}
