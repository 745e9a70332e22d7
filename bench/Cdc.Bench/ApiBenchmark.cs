using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Cdc.Testing;
using Microsoft.Extensions.Logging;

namespace Cdc.Bench;

/// <summary>
/// Latency of the task API (POST /cdc: create, get, list, pause, resume) with 100 tasks stored, under 16 concurrent
/// clients, against the real server over real HTTP (Kestrel on loopback) with its event store on the PostgreSQL that
/// scripts/bench.sh started. The server runs without a replication engine, so tasks are stored but never replicate.
/// </summary>
public static class ApiBenchmark
{
    private const int StoredTasks = 100;
    private const int Clients = 16;
    private const int Gets = 3_000;
    private const int Lists = 400;
    private const int Creates = 300;
    private const int PauseResumeRounds = 3;

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        var port = FreePort();
        var overrides = CdcApp.WithoutReplicationEngine();
        overrides["address"] = $"127.0.0.1:{port}";
        overrides["maxTaskNum"] = "10000";
        await using var app = await StartAsync(overrides);
        if (app.Client.BaseAddress?.Port != port)
        {
            throw new InvalidOperationException($"the client does not talk to Kestrel on port {port} but to {app.Client.BaseAddress}");
        }

        var tasks = new List<string>();
        for (var i = 0; i < StoredTasks; i++)
        {
            tasks.Add(await CreateAsync(app, i));
        }

        // Warm-up: JIT, connection pools, PostgreSQL plans.
        await RunConcurrentlyAsync(Enumerable.Range(0, 200).Select(i => (Func<Task>)(() => CallAsync(app, "get", Id(tasks[i % StoredTasks])))).ToList());
        await RunConcurrentlyAsync(Enumerable.Range(0, 20).Select(_ => (Func<Task>)(() => CallAsync(app, "list", null))).ToList());

        var results = new List<(string Operation, int Samples, LagBenchmark.Summary Latency, double PerSecond)>
        {
            await MeasureAsync("get", Enumerable.Range(0, Gets).Select(i => (Func<Task>)(() => CallAsync(app, "get", Id(tasks[i % StoredTasks])))).ToList()),
            await MeasureAsync("list", Enumerable.Range(0, Lists).Select(_ => (Func<Task>)(() => CallAsync(app, "list", null))).ToList()),
        };
        var pauses = new List<double>();
        var resumes = new List<double>();
        var pauseTime = TimeSpan.Zero;
        var resumeTime = TimeSpan.Zero;
        for (var round = 0; round < PauseResumeRounds; round++)
        {
            var (p, pt) = await TimeAllAsync(tasks.Select(t => (Func<Task>)(() => CallAsync(app, "pause", Id(t)))).ToList());
            var (r, rt) = await TimeAllAsync(tasks.Select(t => (Func<Task>)(() => CallAsync(app, "resume", Id(t)))).ToList());
            pauses.AddRange(p);
            resumes.AddRange(r);
            pauseTime += pt;
            resumeTime += rt;
        }

        results.Add(("pause", pauses.Count, LagBenchmark.Summary.Of(pauses), pauses.Count / pauseTime.TotalSeconds));
        results.Add(("resume", resumes.Count, LagBenchmark.Summary.Of(resumes), resumes.Count / resumeTime.TotalSeconds));
        results.Add(await MeasureAsync("create", Enumerable.Range(StoredTasks, Creates).Select(i => (Func<Task>)(() => CreateAsync(app, i))).ToList()));

        var now = context.TimeProvider.GetUtcNow();
        var table = new StringBuilder()
            .AppendLine("# API latency")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"The real server (Cdc.Api's Program via WebApplicationFactory on Kestrel, real HTTP/1.1 on loopback) with {StoredTasks} tasks stored, {Clients} concurrent")
            .AppendLine("clients (one HttpClient, keep-alive), event store on PostgreSQL (fsync off, as in the tests). No replication engine: tasks are")
            .AppendLine("stored and change state but never reach a source or target. Each operation measured on its own after a warm-up.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | operation | requests | p50 ms | p99 ms | max ms | requests/s |")
            .AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {r.Operation} | {r.Samples} | {r.Latency.P50:F1} | {r.Latency.P99:F1} | {r.Latency.Max:F1} | {r.PerSecond:F0} |");
        }

        table
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"get: a stored task by id; list: all {StoredTasks} tasks (it runs before the creates);")
            .AppendLine(CultureInfo.InvariantCulture, $"pause/resume: each of the {StoredTasks} tasks paused, then resumed, {PauseResumeRounds} rounds; create: {Creates} new tasks (each its own target uri) on top of the {StoredTasks}.")
            .AppendLine("Latency: request sent to response body read, by the client, in the same process as the server (they share the 2 cores).")
            .AppendLine("The server logs at Warning and above here, so request log lines are not in the figures.");
        table.AppendLine().AppendLine(BenchmarkContext.MachineNote(loadBefore));
        var text = table.ToString();
        Console.WriteLine(text);
        await ThroughputBenchmark.WriteAsync(context, "api.md", text);
    }

    /// <summary>
    /// Starts the server. WebApplicationFactory finds Cdc.Api's content root in MvcTestingAppManifest.json, which it
    /// looks for in the current directory: the output directory, as under dotnet test, while it starts.
    /// </summary>
    private static async Task<CdcApp> StartAsync(Dictionary<string, string> overrides)
    {
        var current = Environment.CurrentDirectory;
        Environment.CurrentDirectory = AppContext.BaseDirectory;
        try
        {
            return await CdcApp.StartAsync(overrides, kestrel: true, minimumLogLevel: LogLevel.Warning);
        }
        finally
        {
            Environment.CurrentDirectory = current;
        }
    }

    private static JsonObject Id(string taskId) => new() { ["task_id"] = taskId };

    private static async Task<string> CreateAsync(CdcApp app, int i)
    {
        var request = CdcApp.SeedCreate();
        request["milvus_connect_param"]!["uri"] = $"http://target-{i}.invalid:19530";
        var (status, body) = await app.PostAsync("create", request);
        return status == 200
            ? body["data"]!["task_id"]!.GetValue<string>()
            : throw new InvalidOperationException($"create answered {status}: {body.ToJsonString()}");
    }

    private static async Task CallAsync(CdcApp app, string type, JsonObject? data)
    {
        var (status, body) = await app.PostAsync(type, data);
        if (status != 200)
        {
            throw new InvalidOperationException($"{type} answered {status}: {body.ToJsonString()}");
        }
    }

    private static async Task<(string, int, LagBenchmark.Summary, double)> MeasureAsync(string operation, IReadOnlyList<Func<Task>> calls)
    {
        var (latencies, elapsed) = await TimeAllAsync(calls);
        Console.WriteLine($"{operation}: {latencies.Count} in {elapsed.TotalSeconds:F2} s");
        return (operation, latencies.Count, LagBenchmark.Summary.Of(latencies), latencies.Count / elapsed.TotalSeconds);
    }

    /// <summary>Runs the calls on <see cref="Clients"/> concurrent workers; returns each call's latency (ms) and the wall time.</summary>
    private static async Task<(List<double> Latencies, TimeSpan Elapsed)> TimeAllAsync(IReadOnlyList<Func<Task>> calls)
    {
        var latencies = new double[calls.Count];
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < calls.Count)
            {
                var start = Stopwatch.GetTimestamp();
                await calls[i]();
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        })));
        return ([.. latencies], watch.Elapsed);
    }

    private static Task RunConcurrentlyAsync(IReadOnlyList<Func<Task>> calls) => TimeAllAsync(calls);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
