using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Bench;

/// <summary>
/// Peak resident memory of the CDC server itself (Cdc.Api.dll in a process of its own, as an operator runs it: event
/// store, Wolverine, the API and the engine) while one task replicates 1 GB of 1,000-row x 768-dim Inserts from the
/// Kafka mock into the fake target (its own process too). The producer runs in this benchmark's process, so its
/// buffers are not counted, unlike in <see cref="MemoryBenchmark"/>, which hosts engine and producer together.
/// </summary>
public static class ServerMemoryBenchmark
{
    private const long Bytes = 1_000_000_000;

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = deadline.Token;
        const int rows = ThroughputBenchmark.Rows, dimension = ThroughputBenchmark.Dimension, shards = ThroughputBenchmark.Shards;

        await using var database = await PostgresDatabase.CreateAsync();
        await using var target = await FakeTargetProcess.StartAsync(ct);
        using var etcd = EtcdTestStore.Client();
        await using var queue = SourceQueue.Kafka(new KafkaTestProducer(PipelineHarness.KafkaBootstrap, messageMaxBytes: 16 * 1024 * 1024));
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var replicateChannel = $"cdc-bench-server-memory-{suffix}-replicate-msg";
        var source = await PipelineHarness.CreateSourceAsync(etcd, queue.Writer, "server-memory", suffix, dimension, shards, replicateChannel, ct);

        var settings = new Dictionary<string, string>
        {
            ["sourceConfig:etcd:address:0"] = EtcdTestStore.Endpoint,
            ["sourceConfig:etcd:rootPath"] = $"cdc-bench/server-memory/{suffix}",
            ["sourceConfig:kafka:address"] = PipelineHarness.KafkaBootstrap,
            ["sourceConfig:kafka:consumer:fetch.wait.max.ms"] = "10",
            ["sourceConfig:pulsar:address"] = "",
            ["sourceConfig:replicateChan"] = replicateChannel,
            ["metaStoreConfig:postgres:connectionString"] = database.ConnectionString,
            ["metaStoreConfig:secretKey"] = CdcApp.SecretKey,
        };
        await using var server = await CdcServerProcess.StartAsync(settings, ct);
        var pid = server.ProcessId.ToString(CultureInfo.InvariantCulture);
        var (status, body) = await server.PostAsync("create", new JsonObject
        {
            ["milvus_connect_param"] = new JsonObject { ["uri"] = target.Uri.ToString(), ["connect_timeout"] = 10 },
            ["collection_infos"] = new JsonArray(new JsonObject { ["name"] = "*" }),
        });
        if (status != 200) throw new InvalidOperationException($"create answered {status}: {body.ToJsonString()}");

        // Every reader is open once a tick of every pchannel reached the target.
        var until = DateTime.UtcNow.AddSeconds(60);
        while (target.Ticks < shards)
        {
            if (DateTime.UtcNow > until) throw new InvalidOperationException($"no ticks on every target pchannel within 60 s; server output:\n{server.Output}");
            await source.Stream.TickAsync(ct);
            await Task.Delay(200, ct);
        }

        var afterStart = MemoryBenchmark.StatusValue(pid, "VmRSS") / 1024.0;
        var peakReset = MemoryBenchmark.TryResetPeak(pid);
        using var sampling = new CancellationTokenSource();
        var sampler = MemoryBenchmark.SampleAsync(sampling.Token, pid);

        var vectors = PipelineHarness.Vectors(rows, dimension);
        var insertsBefore = target.Inserts;
        var bytesBefore = target.InsertBytes;
        long key = 0;
        var wall = Stopwatch.StartNew();
        while (target.InsertBytes - bytesBefore < Bytes)
        {
            var expected = target.Inserts + await ThroughputBenchmark.ProduceRoundAsync(source, vectors, key, ct);
            key += (long)rows * shards;
            var roundLimit = DateTime.UtcNow.AddSeconds(60);
            while (target.Inserts < expected)
            {
                if (DateTime.UtcNow > roundLimit) throw new InvalidOperationException($"a round did not reach the target within 60 s; server output:\n{server.Output}");
                await Task.Delay(5, ct);
            }
        }

        wall.Stop();
        await sampling.CancelAsync();
        var maxSampled = (await sampler).MaxRss / 1024.0 / 1024.0;
        var peak = MemoryBenchmark.StatusValue(pid, "VmHWM") / 1024.0;
        var end = MemoryBenchmark.StatusValue(pid, "VmRSS") / 1024.0;
        var replicatedMb = (target.InsertBytes - bytesBefore) / 1e6;
        Console.WriteLine($"server: {replicatedMb:F0} MB in {wall.Elapsed.TotalSeconds:F1} s; RSS after start-up {afterStart:F0} MB, peak {peak:F0} MB, max sampled {maxSampled:F0} MB");

        var now = context.TimeProvider.GetUtcNow();
        var text = new StringBuilder()
            .AppendLine("# Peak memory of the CDC server process replicating 1 GB")
            .AppendLine()
            .AppendLine("The server as an operator runs it (`dotnet Cdc.Api.dll`, Release, server GC, event store on PostgreSQL), one task with")
            .AppendLine(CultureInfo.InvariantCulture, $"`collection_infos: *`, {shards} pchannels, rounds of one {rows:N0}-row x {dimension}-dim Insert per pchannel and a tick, each round")
            .AppendLine("written once the last one reached the fake target (its own process). The producer runs in the benchmark's process and is")
            .AppendLine("not counted (see memory.md for the engine and the producer in one process). Peak: VmHWM of the server, reset through")
            .AppendLine("/proc/<pid>/clear_refs once the task was reading; VmRSS also sampled every 20 ms.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | RSS after start-up and task create MB | peak RSS (VmHWM) MB | max sampled VmRSS MB | RSS at the end MB | replicated MB | MB/s | peak reset | target |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|")
            .AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {afterStart:F0} | {peak:F0} | {maxSampled:F0} | {end:F0} | {replicatedMb:F0} | {replicatedMb / wall.Elapsed.TotalSeconds:F0} | {(peakReset ? "yes" : "no")} | < 300 MB: {(peak < 300 ? "**met**" : "**not met**")} |")
            .AppendLine()
            .AppendLine(BenchmarkContext.MachineNote(loadBefore));
        Console.WriteLine(text);
        await ThroughputBenchmark.WriteAsync(context, "server-memory.md", text.ToString());
    }
}
