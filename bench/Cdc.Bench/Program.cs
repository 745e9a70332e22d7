using Cdc.Bench;
using Cdc.Infrastructure.Composition;

// Usage: Cdc.Bench <benchmark>... [--results <dir>]   (scripts/bench.sh starts the servers the benchmarks need)
//        Cdc.Bench fake-target [port]               (a fake target Milvus alone, in this process)
// Benchmarks: decode (msgstream decoder vs raw Google.Protobuf parse of large InsertRequests), throughput (pipeline
// vs raw Kafka read), lag (produce-to-acknowledge latency at a steady rate), api (HTTP API latency with 100 tasks),
// write-floor (the event store alone under the API benchmark's 16 clients: what a pause or resume costs without the server),
// memory (peak RSS while replicating 1 GB), upsert (apply mode upsert next to replicate), drain (catch-up after a 30 s
// target outage), soak (10 minutes of the server replicating with pause/resume cycles), pulsar-throughput (pipeline vs
// the Pulsar reader alone, on a fake Pulsar broker in this process); all runs every one, in this order.
// The process the engine runs in gets the server's native heap setting (see Cdc.Api's Program), so that the
// pipeline's figures are the server's.
NativeHeapArenas.Limit();
var benchmarks = new Dictionary<string, Func<BenchmarkContext, Task>>(StringComparer.OrdinalIgnoreCase)
{
    ["decode"] = DecodeBenchmark.RunAsync,
    ["throughput"] = ThroughputBenchmark.RunAsync,
    ["lag"] = LagBenchmark.RunAsync,
    ["api"] = ApiBenchmark.RunAsync,
    ["write-floor"] = WriteFloorBenchmark.RunAsync,
    ["memory"] = MemoryBenchmark.RunAsync,
    ["server-memory"] = ServerMemoryBenchmark.RunAsync,
    ["upsert"] = UpsertBenchmark.RunAsync,
    ["drain"] = DrainBenchmark.RunAsync,
    ["soak"] = SoakBenchmark.RunAsync,
    ["pulsar-throughput"] = ThroughputBenchmark.RunPulsarAsync,
};

if (args is ["fake-target", .. var rest])
{
    // A fake target Milvus in a process of its own (FakeTargetProcess), so its CPU time is measured apart from the
    // CDC's: neither records calls nor applies rows, listens on 127.0.0.1 at the given port (any free one without),
    // counts what it acknowledged into the --counters file when given, prints its address and serves until its
    // standard input gives a line or closes.
    var countersAt = Array.IndexOf(rest, "--counters");
    var counters = countersAt >= 0 && countersAt + 1 < rest.Length ? rest[countersAt + 1] : null;
    var portArgs = countersAt >= 0 ? [.. rest[..countersAt], .. rest[Math.Min(rest.Length, countersAt + 2)..]] : rest;
    var port = portArgs is [var given] && int.TryParse(given, out var parsed) && parsed is >= 0 and <= 65535 ? parsed : -1;
    if (portArgs.Length > 1 || (portArgs.Length == 1 && port < 0) || (countersAt >= 0 && counters is null))
    {
        Console.Error.WriteLine("usage: Cdc.Bench fake-target [port] [--counters <file of 24 bytes>]");
        return 2;
    }

    await FakeTargetProcess.ServeAsync(Math.Max(port, 0), counters);
    return 0;
}

var resultsIndex = Array.IndexOf(args, "--results");
var resultsDirectory = resultsIndex >= 0 && resultsIndex + 1 < args.Length
    ? args[resultsIndex + 1]
    : Path.Combine(BenchmarkContext.RepositoryRoot(), "bench", "results");
var names = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (resultsIndex < 0 || i != resultsIndex + 1)).ToList();
if (names.Count == 0)
{
    names.Add("decode");
}

if (names.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase)))
{
    names = [.. benchmarks.Keys];
}

if (names.FirstOrDefault(n => !benchmarks.ContainsKey(n)) is { } unknown)
{
    Console.Error.WriteLine($"unknown benchmark '{unknown}'; known: {string.Join(", ", benchmarks.Keys)}, all");
    return 2;
}

var context = new BenchmarkContext(resultsDirectory, TimeProvider.System);
foreach (var name in names)
{
    Console.WriteLine($"== {name}");
    await benchmarks[name](context);
}

return 0;
