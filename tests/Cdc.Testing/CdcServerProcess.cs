using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Cdc.Testing;

/// <summary>
/// The real server as an operator runs it: <c>dotnet Cdc.Api.dll --config configs/cdc.yaml</c> in its own OS process
/// (the build of this configuration), configured through <c>CDC_</c> environment variables (keys as in cdc.yaml,
/// ':'-separated here, "__"-joined in the variable), listening on a free loopback port. It can be killed with SIGKILL
/// (<see cref="Kill"/>), as a crash or an OOM kill would; its output is kept for the test's failure message.
/// </summary>
public sealed class CdcServerProcess : IAsyncDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly Process _process;
    private readonly StringBuilder _output;

    private CdcServerProcess(Process process, StringBuilder output, Uri address, HttpMessageHandler? handler)
    {
        _process = process;
        _output = output;
        Address = address;
        Client = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Where Cdc.Api.dll of this build lives (scripts/test.sh builds the whole solution first).</summary>
    public static string ServerAssembly => RepositoryRoot.File_(Path.Combine("src", "Cdc.Api", "bin", Configuration, "net10.0", "Cdc.Api.dll"));

    public Uri Address { get; }

    public HttpClient Client { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>
    /// Starts the server with <paramref name="settings"/> (e.g. <c>metaStoreConfig:postgres:connectionString</c>) as
    /// <c>CDC_</c> variables and waits until /readyz answers 200 (event store open, replication worker running).
    /// With <c>apiTls:certPath</c> among the settings the server speaks HTTPS, and so does <see cref="Client"/>, through
    /// <paramref name="handler"/> when given (e.g. one that trusts the test CA).
    /// </summary>
    public static async Task<CdcServerProcess> StartAsync(
        IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken, HttpMessageHandler? handler = null)
    {
        if (!File.Exists(ServerAssembly))
            throw new InvalidOperationException($"{ServerAssembly} is missing: build the solution ({Configuration}) first, as scripts/test.sh does");
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Path,
        };
        info.ArgumentList.Add(ServerAssembly);
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(RepositoryRoot.File_(Path.Combine("configs", "cdc.yaml")));
        foreach (var (key, value) in settings)
            info.Environment[CdcConfigVariable(key)] = value;
        info.Environment[CdcConfigVariable("address")] = $"127.0.0.1:{port}";

        var output = new StringBuilder();
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var scheme = settings.ContainsKey("apiTls:certPath") ? "https" : "http";
        var server = new CdcServerProcess(process, output, new Uri($"{scheme}://127.0.0.1:{port}/"), handler);
        try
        {
            await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The environment variable that overrides a config key: <c>CDC_</c> + the key path joined with "__".</summary>
    public static string CdcConfigVariable(string key) => "CDC_" + key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>POSTs an envelope to /cdc and returns the HTTP status and parsed body.</summary>
    public async Task<(int Status, JsonObject Body)> PostAsync(string requestType, object? requestData = null)
    {
        var envelope = new JsonObject { ["request_type"] = requestType };
        if (requestData is not null) envelope["request_data"] = requestData as JsonNode ?? System.Text.Json.JsonSerializer.SerializeToNode(requestData);
        using var content = new StringContent(envelope.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/cdc", content);
        return ((int)response.StatusCode, await CdcApp.ReadAsync(response));
    }

    /// <summary>Ends the process at once with SIGKILL: no shutdown hook runs, no lease is released, nothing is flushed.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    private async Task WaitUntilReadyAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + limit;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the server exited at start-up with code {_process.ExitCode}:\n{Output}");
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"the server was not ready within {limit}:\n{Output}");
            try
            {
                using var response = await Client.GetAsync("/readyz", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>
    /// A loopback port nobody listens on, below the kernel's ephemeral range (as scripts/lib/common.sh picks them), so
    /// no outgoing connection takes it between this check and the server's bind.
    /// </summary>
    private static int FreePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free loopback port found between 20000 and 32000");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await ChildProcess.KillAndDisposeAsync(_process);
    }
}
