using Cdc.Bench;

// Usage: Cdc.Bench <benchmark> [--results <dir>]
// Benchmarks: decode (msgstream decoder vs raw Google.Protobuf parse of large InsertRequests).
var benchmarks = new Dictionary<string, Func<BenchmarkContext, Task>>(StringComparer.OrdinalIgnoreCase)
{
    ["decode"] = DecodeBenchmark.RunAsync,
};

var name = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "decode";
var resultsIndex = Array.IndexOf(args, "--results");
var resultsDirectory = resultsIndex >= 0 && resultsIndex + 1 < args.Length
    ? args[resultsIndex + 1]
    : Path.Combine(BenchmarkContext.RepositoryRoot(), "bench", "results");

if (!benchmarks.TryGetValue(name, out var run))
{
    Console.Error.WriteLine($"unknown benchmark '{name}'; known: {string.Join(", ", benchmarks.Keys)}");
    return 2;
}

await run(new BenchmarkContext(resultsDirectory, TimeProvider.System));
return 0;
