using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cdc.Testing;

namespace Cdc.Bench;

/// <summary>
/// Latency of the task API (POST /cdc: create, get, list, pause, resume) with 100 tasks stored, under 16 concurrent
/// clients, against the real server in a process of its own (<see cref="CdcServerProcess"/>: Cdc.Api.dll of this
/// build, as an operator runs it) over real HTTP on loopback, with its event store on the PostgreSQL that
/// scripts/bench.sh started. GET /healthz, which touches neither the event store nor the task code, is measured the
/// same way on the same server as the baseline of the targets. The tasks name a source that does not exist (a Pulsar
/// address that does not resolve), so each Running task's run fails to open its source and retries with back-off in
/// the background, as a misconfigured task would: they never replicate, but they cost the server some CPU.
/// </summary>
public static class ApiBenchmark
{
    private const int StoredTasks = 100;
    private const int Clients = 16;
    /// <summary>
    /// /healthz, get and list are each measured in blocks of this length, taken in turn (/healthz, get, list, /healthz,
    /// ...), so that the three see the same background work of the server (its tasks' retries, GC, PostgreSQL).
    /// </summary>
    private static readonly TimeSpan ReadBlock = TimeSpan.FromSeconds(1);
    private const int ReadRounds = 5;
    private const int WarmUpReadRounds = 3;
    private const int Creates = 300;
    private const int PauseResumeRounds = 3;

    /// <summary>The targets: an operation's p99 at most this many times the p99 of GET /healthz.</summary>
    private static readonly Dictionary<string, double> TargetRatio = new()
    {
        ["get"] = 3, ["list"] = 3, ["create"] = 10, ["pause"] = 10, ["resume"] = 10,
    };

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = CdcApp.WithoutReplicationEngine();
        settings["metaStoreConfig:postgres:connectionString"] = database.ConnectionString;
        settings["metaStoreConfig:secretKey"] = CdcApp.SecretKey;
        settings["maxTaskNum"] = "10000";
        using var startLimit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var server = await CdcServerProcess.StartAsync(settings, startLimit.Token);
        Console.WriteLine($"server process {server.ProcessId} on {server.Address}");

        var tasks = new List<string>();
        for (var i = 0; i < StoredTasks; i++)
        {
            tasks.Add(await CreateAsync(server, i));
        }

        // Warm-up: JIT on both sides, connection pools, PostgreSQL plans. Long enough for tiered compilation to finish
        // with these paths: after 3,000 gets (0.4 s) the next 3,000 still cost the server 0.20 ms of CPU each, against
        // 0.08-0.13 ms once the server had answered 30,000.
        using var serverProcess = Process.GetProcessById(server.ProcessId);
        Func<Task> healthz = () => HealthzAsync(server);
        var gets = tasks.Select(t => Call(server, "get", Id(t))).ToArray();
        var list = Call(server, "list", null);
        var reads = new (string Operation, Func<int, Func<Task>> Call)[]
        {
            ("GET /healthz", _ => healthz),
            ("get", i => gets[i % StoredTasks]),
            ("list", _ => list),
        };
        foreach (var block in Enumerable.Repeat(reads, WarmUpReadRounds).SelectMany(r => r))
        {
            await TimeForAsync(serverProcess, block.Call, ReadBlock);
        }

        // The first pause, resume, create and delete of a server take their first paths through the code (JIT, pools):
        // warmed up too, and the first of each timed apart.
        var first = new List<(string Operation, double Ms)>();
        async Task FirstAsync(string operation, Func<Task> call)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            first.Add((operation, Stopwatch.GetElapsedTime(start).TotalMilliseconds));
        }

        await FirstAsync("pause", Call(server, "pause", Id(tasks[0])));
        await FirstAsync("resume", Call(server, "resume", Id(tasks[0])));
        string? spare = null;
        await FirstAsync("create", async () => spare = await CreateAsync(server, StoredTasks + Creates));
        await FirstAsync("delete", () => Call(server, "delete", Id(spare!))());
        // Then as many writes of each kind as are measured, on the same concurrency: one round of pauses and resumes of
        // every task, and the creates, deleted again. A create, pause or resume runs code the reads never reach (the
        // append, and the run it starts or stops), and tiered compilation recompiles a method after its 30th call: with
        // a single write of each kind warmed up, the measured creates ran while the JIT compiled their paths (libclrjit
        // alone took 16 % of the server's CPU in a profile of creates, and the runtime's compilation counter showed
        // 500 to 2,600 methods compiled per second until the reads were measured). These cold writes are timed and
        // reported apart, next to the warm ones.
        var cold = new List<OperationResult>
        {
            OperationResult.Of("pause", await TimeAllAsync(serverProcess, tasks.Select(t => Call(server, "pause", Id(t))).ToList())),
            OperationResult.Of("resume", await TimeAllAsync(serverProcess, tasks.Select(t => Call(server, "resume", Id(t))).ToList())),
        };
        var warmUpCreates = new ConcurrentBag<string>();
        cold.Add(OperationResult.Of("create", await TimeAllAsync(serverProcess, Enumerable.Range(StoredTasks + Creates + 1, Creates)
            .Select(i => (Func<Task>)(async () => warmUpCreates.Add(await CreateAsync(server, i)))).ToList())));
        cold.Add(OperationResult.Of("delete", await TimeAllAsync(serverProcess, warmUpCreates.Select(t => Call(server, "delete", Id(t))).ToList())));

        // The warm-up's resumes and creates start runs (lease, stream, source attempts), and its deletes stop them:
        // measured right away, get's p99 was those restarts (every request above 40 ms fell in one second, up to
        // 370 ms), not get. Measured once the server is back to its background load.
        var settled = await SettleAsync(serverProcess);

        var readBatches = new Batch?[reads.Length];
        for (var round = 0; round < ReadRounds; round++)
        {
            for (var r = 0; r < reads.Length; r++)
            {
                var batch = await TimeForAsync(serverProcess, reads[r].Call, ReadBlock);
                readBatches[r] = readBatches[r] is { } before ? before + batch : batch;
            }
        }

        var results = reads.Select((read, r) => OperationResult.Of(read.Operation, readBatches[r]!)).ToList();
        Batch? pauses = null;
        Batch? resumes = null;
        for (var round = 0; round < PauseResumeRounds; round++)
        {
            var p = await TimeAllAsync(serverProcess, tasks.Select(t => Call(server, "pause", Id(t))).ToList());
            var r = await TimeAllAsync(serverProcess, tasks.Select(t => Call(server, "resume", Id(t))).ToList());
            pauses = pauses is null ? p : pauses + p;
            resumes = resumes is null ? r : resumes + r;
        }

        results.Add(OperationResult.Of("pause", pauses!));
        results.Add(OperationResult.Of("resume", resumes!));
        results.Add(await MeasureAsync(serverProcess, "create", Enumerable.Range(StoredTasks, Creates).Select(i => Call(server, "create", CreateRequest(i))).ToList()));

        var baseline = results[0].Latency.P99;
        var now = context.TimeProvider.GetUtcNow();
        var table = new StringBuilder()
            .AppendLine("# API latency")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"The real server in a process of its own (`dotnet Cdc.Api.dll --config configs/cdc.yaml`, Release, server GC, its default logging) with {StoredTasks} tasks stored,")
            .AppendLine(CultureInfo.InvariantCulture, $"{Clients} concurrent clients in the benchmark's process (one HttpClient, keep-alive, real HTTP/1.1 on loopback), event store on PostgreSQL")
            .AppendLine("(fsync off, as in the tests). The tasks' source does not exist (an unresolvable Pulsar address): each Running task's run retries with")
            .AppendLine("back-off in the background (about 15 % of one core for 100 tasks, measured apart) and never reaches a target.")
            .AppendLine(CultureInfo.InvariantCulture, $"Warm-up: {WarmUpReadRounds} rounds of {ReadBlock.TotalSeconds:F0} s of /healthz, {ReadBlock.TotalSeconds:F0} s of get and {ReadBlock.TotalSeconds:F0} s of list, then one pause, resume, create and delete,")
            .AppendLine(CultureInfo.InvariantCulture, $"then as many writes as are measured (until 2026-12-05 16:00: 20 pauses and resumes): each of the {StoredTasks} tasks paused, then resumed, then {Creates} creates and their deletes.")
            .AppendLine(CultureInfo.InvariantCulture, $"The warm-up's runs start and stop: /healthz, get and list are measured once the server used less than {QuietCpuShare:P0} of a core in each of {QuietSeconds} seconds in a row (after {settled:F0} s here),")
            .AppendLine(CultureInfo.InvariantCulture, $"in {ReadRounds} rounds of blocks of {ReadBlock.TotalSeconds:F0} s taken in turn (/healthz, get, list, /healthz, ...), so that the baseline and the reads see the same background work; then pause, resume and create.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | operation | requests | p50 ms | p99 ms | max ms | requests/s | server CPU ms/request | client CPU ms/request | p99 / p99 of /healthz | target |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            var ratio = r.Latency.P99 / baseline;
            var target = TargetRatio.TryGetValue(r.Operation, out var most)
                ? $"at most {most:F0}x: {(ratio <= most ? "**met**" : "**not met**")}"
                : "baseline";
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {r.Operation} | {r.Samples} | {r.Latency.P50:F1} | {r.Latency.P99:F1} | {r.Latency.Max:F1} | {r.PerSecond:F0} | {r.ServerCpuMs:F2} | {r.ClientCpuMs:F2} | {ratio:F1}x | {target} |");
        }

        table
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"GET /healthz: answered \"ok\" by the server without the event store; get: a stored task by id (the {StoredTasks} in turn); list: all {StoredTasks} tasks (it runs before the creates);")
            .AppendLine(CultureInfo.InvariantCulture, $"pause/resume: each of the {StoredTasks} tasks paused, then resumed, {PauseResumeRounds} rounds; create: {Creates} new tasks (each its own target uri) on top of the {StoredTasks}.")
            .AppendLine("Each client sends an envelope serialized before the timing, reads the answer's body whole and checks its status; it parses no body,")
            .AppendLine("so the clients' work is the same for every operation, /healthz included (until 2026-12-05 they parsed each /cdc answer into a JSON tree).")
            .AppendLine("Until 2026-12-05 11:00 each read was measured in one go as 3,000 calls (400 lists) after as many warm-up calls: 0.1 to 0.5 s each, so")
            .AppendLine("p99 came from the slowest 30 calls (4 lists) of a moment, and get still cost the server 0.20 ms of CPU against 0.05 ms at steady state.")
            .AppendLine("Latency: request sent to response body read, by the client; server and clients are separate processes on the same 2 cores, so the")
            .AppendLine("figures include the clients' share of the CPU and the scheduling between the two processes, as much for /healthz as for the others.")
            .AppendLine("CPU per request: the CPU time the server process (PostgreSQL's not included) and the benchmark's process (the clients) used while the")
            .AppendLine("operation ran, divided by its requests.")
            .AppendLine("Targets: p99 of get and list at most 3x the p99 of /healthz; create, pause and resume at most 10x.")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"The first call of each kind on the fresh server (before the warm-up of those kinds, one at a time): {string.Join(", ", first.Select(f => $"{f.Operation} {f.Ms:F0} ms"))}.")
            .AppendLine(CultureInfo.InvariantCulture, $"The warm-up's writes, cold (the same calls and clients as measured, right after the first ones): {string.Join(", ", cold.Select(c => $"{c.Operation} p50 {c.Latency.P50:F1} ms, p99 {c.Latency.P99:F1} ms, server CPU {c.ServerCpuMs:F2} ms/request"))}.");
        table.AppendLine().AppendLine(BenchmarkContext.MachineNote(loadBefore));
        var text = table.ToString();
        Console.WriteLine(text);
        await ThroughputBenchmark.WriteAsync(context, "api.md", text);
    }

    private static JsonObject Id(string taskId) => new() { ["task_id"] = taskId };

    private static JsonObject CreateRequest(int i)
    {
        var request = CdcApp.SeedCreate();
        request["milvus_connect_param"]!["uri"] = $"http://target-{i}.invalid:19530";
        return request;
    }

    private static async Task<string> CreateAsync(CdcServerProcess server, int i)
    {
        var (status, body) = await server.PostAsync("create", CreateRequest(i));
        return status == 200
            ? body["data"]!["task_id"]!.GetValue<string>()
            : throw new InvalidOperationException($"create answered {status}: {body.ToJsonString()}");
    }

    /// <summary>
    /// One timed /cdc call: its envelope is serialized here, before the timing; the call sends it, reads the answer's
    /// body whole and checks the status (the server's status equals the envelope's code). The body is not parsed: the
    /// clients do the same work for every operation, /healthz included, so that what differs is the server's.
    /// </summary>
    private static Func<Task> Call(CdcServerProcess server, string type, JsonObject? data)
    {
        var envelope = new JsonObject { ["request_type"] = type };
        if (data is not null) envelope["request_data"] = data.DeepClone();
        var bytes = Encoding.UTF8.GetBytes(envelope.ToJsonString());
        return async () =>
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await server.Client.PostAsync("/cdc", content);
            var body = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"{type} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
            }
        };
    }

    private static async Task HealthzAsync(CdcServerProcess server)
    {
        using var response = await server.Client.GetAsync("/healthz");
        var body = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK || !body.AsSpan().SequenceEqual("ok\n"u8))
        {
            throw new InvalidOperationException($"/healthz answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        }
    }

    private static async Task<OperationResult> MeasureAsync(Process serverProcess, string operation, IReadOnlyList<Func<Task>> calls)
    {
        var batch = await TimeAllAsync(serverProcess, calls);
        Console.WriteLine($"{operation}: {batch.Latencies.Count} in {batch.Elapsed.TotalSeconds:F2} s");
        return OperationResult.Of(operation, batch);
    }

    /// <summary>
    /// Runs calls on <see cref="Clients"/> concurrent workers for <paramref name="duration"/> (a call under way at the end
    /// is finished and counted); <paramref name="call"/> gives the i-th call.
    /// </summary>
    private static Task<Batch> TimeForAsync(Process serverProcess, Func<int, Func<Task>> call, TimeSpan duration) =>
        TimeAsync(serverProcess, (i, elapsed) => elapsed < duration ? call(i) : null);

    /// <summary>Runs the calls on <see cref="Clients"/> concurrent workers, each call once.</summary>
    private static Task<Batch> TimeAllAsync(Process serverProcess, IReadOnlyList<Func<Task>> calls) =>
        TimeAsync(serverProcess, (i, _) => i < calls.Count ? calls[i] : null);

    /// <summary>
    /// Runs calls on <see cref="Clients"/> concurrent workers until <paramref name="next"/> (given the call's number and
    /// the time since the start) gives none; returns each call's latency (ms), the wall time and the CPU time the server
    /// process and this process used meanwhile.
    /// </summary>
    private static async Task<Batch> TimeAsync(Process serverProcess, Func<int, TimeSpan, Func<Task>?> next)
    {
        var latencies = new List<double>[Clients];
        var number = -1;
        var serverCpu = ServerCpu(serverProcess);
        var clientCpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = [];
            while (next(Interlocked.Increment(ref number), watch.Elapsed) is { } call)
            {
                var start = Stopwatch.GetTimestamp();
                await call();
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })));
        var elapsed = watch.Elapsed;
        return new Batch([.. latencies.SelectMany(l => l)], elapsed, ServerCpu(serverProcess) - serverCpu, Environment.CpuUsage.TotalTime - clientCpu);
    }

    /// <summary>
    /// Waits until the server used less than <see cref="QuietCpuShare"/> of a core in each of <see cref="QuietSeconds"/>
    /// seconds in a row (its tasks' background retries stay), at most 30 s; returns the seconds waited. One quiet second
    /// was not enough: a run once measured /healthz right into the next burst of the restarted runs (p99 80 ms).
    /// </summary>
    private static async Task<double> SettleAsync(Process serverProcess)
    {
        var waited = Stopwatch.StartNew();
        var quiet = 0;
        while (quiet < QuietSeconds && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            var before = ServerCpu(serverProcess);
            await Task.Delay(1000);
            quiet = (ServerCpu(serverProcess) - before).TotalSeconds < QuietCpuShare ? quiet + 1 : 0;
        }

        return waited.Elapsed.TotalSeconds;
    }

    private const int QuietSeconds = 3;

    private const double QuietCpuShare = 0.3;

    private static TimeSpan ServerCpu(Process serverProcess)
    {
        serverProcess.Refresh();
        return serverProcess.TotalProcessorTime;
    }

    /// <summary>A measured batch of calls: each one's latency (ms), the wall time, the CPU time of the server and of the clients.</summary>
    private sealed record Batch(List<double> Latencies, TimeSpan Elapsed, TimeSpan ServerCpu, TimeSpan ClientCpu)
    {
        public static Batch operator +(Batch a, Batch b) =>
            new([.. a.Latencies, .. b.Latencies], a.Elapsed + b.Elapsed, a.ServerCpu + b.ServerCpu, a.ClientCpu + b.ClientCpu);
    }

    /// <summary>One row of the results: an operation's latency, rate and CPU time per request.</summary>
    private sealed record OperationResult(string Operation, int Samples, LagBenchmark.Summary Latency, double PerSecond, double ServerCpuMs, double ClientCpuMs)
    {
        public static OperationResult Of(string operation, Batch batch) => new(
            operation,
            batch.Latencies.Count,
            LagBenchmark.Summary.Of(batch.Latencies),
            batch.Latencies.Count / batch.Elapsed.TotalSeconds,
            batch.ServerCpu.TotalMilliseconds / batch.Latencies.Count,
            batch.ClientCpu.TotalMilliseconds / batch.Latencies.Count);
    }
}
