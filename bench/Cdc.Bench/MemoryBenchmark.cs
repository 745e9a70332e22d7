using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using Cdc.Infrastructure.Source.Kafka;

namespace Cdc.Bench;

/// <summary>
/// Peak resident memory of the process while the pipeline replicates 1 GB (10^9 bytes of Inserts of 1,000 rows x
/// 768-dim vectors) from a Kafka backlog into the fake target, with the reader buffer caps in force, listed as
/// configured: <see cref="KafkaSourceOptions"/> and the librdkafka consumer settings they give.
/// </summary>
public static class MemoryBenchmark
{
    private const long Bytes = 1_000_000_000;

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var ct = deadline.Token;
        const int rows = ThroughputBenchmark.Rows, dimension = ThroughputBenchmark.Dimension, shards = ThroughputBenchmark.Shards;
        var roundBytes = shards * rows * (dimension * 4L + 8 + 8 + 8); // vectors, pk, row id, timestamp: the payload's bulk
        var rounds = (int)Math.Ceiling(Bytes / (double)roundBytes);
        await using var pipeline = await PipelineHarness.StartAsync("memory", dimension, shards, applyRows: false, null, ct, targetInOwnProcess: true);

        // What starting left behind is not the pipeline's: collect it, then restart the peak from here.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var peakReset = TryResetPeak();
        var baseline = Status("VmRSS");
        var baselineHeap = GC.GetTotalMemory(false);

        using var sampling = new CancellationTokenSource();
        var sampler = SampleAsync(sampling.Token);
        long heapAfterGc = 0, rssAfterGc = 0;
        var wall = Stopwatch.StartNew();
        var replicated = await ThroughputBenchmark.ReplicateRoundsAsync(pipeline, rounds, new KafkaSourceOptions { Address = PipelineHarness.KafkaBootstrap }, ct,
            beforeStop: () =>
            {
                // Still running, all rounds replicated: what a full collection leaves is what the pipeline holds on to.
                // The Inserts are acknowledged ahead of the ticks after them; until a channel's tick is read, its reader
                // loop still references the Insert it handled last (3 MB each), so the ticks are given time to arrive.
                Thread.Sleep(TimeSpan.FromSeconds(2));
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                heapAfterGc = GC.GetTotalMemory(false);
                rssAfterGc = Status("VmRSS");
            });
        wall.Stop();
        await sampling.CancelAsync();
        var (maxRss, maxHeap, samples) = await sampler;
        var hwm = Status("VmHWM");
        Console.WriteLine($"replicated {replicated.Bytes / 1e6:F0} MB in {wall.Elapsed.TotalSeconds:F1} s; VmHWM {hwm / 1e6:F0} MB, max sampled VmRSS {maxRss / 1e6:F0} MB");

        var now = context.TimeProvider.GetUtcNow();
        var table = new StringBuilder()
            .AppendLine("# memory while replicating 1 GB")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{rounds} rounds (and {ThroughputBenchmark.WarmUpRounds} warm-up rounds) of one Insert of {rows:N0} rows x {dimension}-dim float vectors + int64 pk on each of {shards} pchannels and a tick on each,")
            .AppendLine(CultureInfo.InvariantCulture, $"written and replicated one round at a time, as in throughput.md: {replicated.Bytes / 1e6:F0} MB replicated into the fake target (its own process, keeping neither calls nor rows),")
            .AppendLine(CultureInfo.InvariantCulture, $"producer included (it runs in this process, one round at a time), in {wall.Elapsed.TotalSeconds:F0} s.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | GC | RSS before MB | peak RSS (VmHWM) MB | max sampled VmRSS MB | peak - before MB | max managed heap MB | managed heap after full GC MB | RSS after full GC MB | replicated MB/s |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|")
            .AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {(GCSettings.IsServerGC ? "server" : "workstation")} | {baseline / 1e6:F0} | {(peakReset ? $"{hwm / 1e6:F0}" : $"{hwm / 1e6:F0} (not reset)")} | {maxRss / 1e6:F0} | {(Math.Max(hwm, maxRss) - baseline) / 1e6:F0} | {maxHeap / 1e6:F0} | {heapAfterGc / 1e6:F0} | {rssAfterGc / 1e6:F0} | {replicated.Bytes / replicated.Elapsed.TotalSeconds / 1e6:F0} |")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Process: this benchmark process, which also hosts the producer and the event store client (the fake target runs in a process of its own); the peak")
            .AppendLine(CultureInfo.InvariantCulture, $"was reset through /proc/self/clear_refs after start-up{(peakReset ? "" : " (refused here, so VmHWM includes the start-up)")}. VmRSS sampled every 20 ms ({samples} samples);")
            .AppendLine(CultureInfo.InvariantCulture, $"managed heap = GC.GetTotalMemory, garbage not yet collected included (was {baselineHeap / 1e6:F0} MB before); \"after full GC\": a forced compacting")
            .AppendLine("collection once every round is replicated, the engine still running (what the process really holds). The Kafka mock (a separate")
            .AppendLine("process) holds the topics and is not counted.")
            .AppendLine("MB here: the Insert messages as the target received them (the warm-up rounds included). Replicated MB/s: those bytes over the")
            .AppendLine("summed round times (first write to last acknowledgement) (warm-up excluded, so slightly high), as in throughput.md, default reader settings.")
            .AppendLine()
            .AppendLine("Not measured here: a deep backlog. The mock keeps at most 5 MiB per partition (about one such Insert), so a reader never has more")
            .AppendLine("than one round to fetch ahead and its buffers never fill; against a real broker with a backlog each reader can hold up to")
            .AppendLine("ReadAhead messages (below) plus librdkafka's pre-fetch queue, per pchannel, which is what the caps must bound.")
            .AppendLine()
            .AppendLine("Buffer caps in force (KafkaSourceOptions as constructed with only an address, the librdkafka values of its consumer config):")
            .AppendLine()
            .AppendLine("| setting | value |")
            .AppendLine("|---|---|");
        foreach (var (setting, value) in Caps())
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| {setting} | {value} |");
        }

        table.AppendLine().AppendLine(BenchmarkContext.MachineNote(loadBefore));
        var text = table.ToString();
        Console.WriteLine(text);
        await ThroughputBenchmark.WriteAsync(context, "memory.md", text);
    }

    /// <summary>The numeric settings of <see cref="KafkaSourceOptions"/> and the librdkafka consumer buffer settings it yields.</summary>
    private static IEnumerable<(string Setting, string Value)> Caps()
    {
        var options = new KafkaSourceOptions { Address = PipelineHarness.KafkaBootstrap };
        foreach (var property in typeof(KafkaSourceOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (type == typeof(int) || type == typeof(long) || type == typeof(TimeSpan))
            {
                yield return ($"KafkaSourceOptions.{property.Name}", Convert.ToString(property.GetValue(options), CultureInfo.InvariantCulture) ?? "null");
            }
        }

        var settings = options.ToConsumerConfig().ToDictionary(e => e.Key, e => e.Value);
        foreach (var name in new[]
                 {
                     "queued.max.messages.kbytes", "queued.min.messages", "fetch.max.bytes", "max.partition.fetch.bytes",
                     "fetch.message.max.bytes", "receive.message.max.bytes", "fetch.wait.max.ms",
                 })
        {
            yield return ($"librdkafka {name}{(settings.ContainsKey(name) ? " (set)" : " (default)")}", Librdkafka.Get(settings, name));
        }
    }

    /// <summary>Resets a process's VmHWM to its current RSS (Linux: "5" into /proc/<pid>/clear_refs); false when not allowed.</summary>
    internal static bool TryResetPeak(string process = "self")
    {
        try
        {
            File.WriteAllText($"/proc/{process}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A size line of /proc/self/status (e.g. VmRSS), in bytes.</summary>
    private static long Status(string key) => StatusValue("self", key) * 1024;

    /// <summary>
    /// A field of /proc/<paramref name="process"/>/status as it is written there (kB for the memory fields, a count for
    /// Threads); 0 when the field is missing.
    /// </summary>
    internal static long StatusValue(string process, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{process}/status"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>
    /// Samples a process's VmRSS (bytes) every 20 ms until cancelled: its maximum, and the maximum of this process's
    /// managed heap when the process is this one ("self"; 0 otherwise).
    /// </summary>
    internal static async Task<(long MaxRss, long MaxHeap, int Samples)> SampleAsync(CancellationToken ct, string process = "self")
    {
        long maxRss = 0, maxHeap = 0;
        var samples = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                maxRss = Math.Max(maxRss, StatusValue(process, "VmRSS") * 1024);
                if (process == "self") maxHeap = Math.Max(maxHeap, GC.GetTotalMemory(false));
                samples++;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return (maxRss, maxHeap, samples);
    }

    /// <summary>Reads librdkafka's effective value of a setting: its default, or what the consumer config sets.</summary>
    private static class Librdkafka
    {
        public static string Get(IReadOnlyDictionary<string, string> settings, string name)
        {
            var conf = rd_kafka_conf_new();
            try
            {
                var error = new byte[512];
                foreach (var (key, value) in settings)
                {
                    rd_kafka_conf_set(conf, key, value, error, (UIntPtr)error.Length);
                }

                var buffer = new byte[256];
                var size = (UIntPtr)buffer.Length;
                return rd_kafka_conf_get(conf, name, buffer, ref size) == 0
                    ? Encoding.UTF8.GetString(buffer, 0, Math.Max(0, (int)size - 1))
                    : "unknown";
            }
            finally
            {
                rd_kafka_conf_destroy(conf);
            }
        }

        [DllImport("librdkafka.so.1")]
        private static extern IntPtr rd_kafka_conf_new();

        [DllImport("librdkafka.so.1")]
        private static extern void rd_kafka_conf_destroy(IntPtr conf);

        [DllImport("librdkafka.so.1")]
        private static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] error, UIntPtr errorSize);

        [DllImport("librdkafka.so.1")]
        private static extern int rd_kafka_conf_get(IntPtr conf, string name, byte[] dest, ref UIntPtr size);
    }
}
