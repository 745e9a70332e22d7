using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cdc.Infrastructure.Kafka;
using Confluent.Kafka;

namespace Cdc.Bench;

/// <summary>
/// Replication throughput of the whole pipeline (Kafka readers, decoder, time-tick packer, rewriter, gRPC writer)
/// into the fake target, next to a plain Confluent.Kafka consumer reading the same messages: the source side's
/// physical limit here.
/// </summary>
/// <remarks>
/// librdkafka's mock cluster keeps at most 5 MiB per partition (<c>max_size</c>, fixed in rdkafka_mock.c), about one
/// 1,000-row Insert of 768-dim vectors, so no deep backlog can be built. The data therefore goes in rounds: each
/// round writes one Insert into each of 16 pchannels (the collection has 16 shards, Milvus' maximum), then a tick on
/// each, and is timed from its first write until the pipeline's target acknowledged its last Insert, or until plain
/// consumers (one per pchannel, as the engine has) received its last message.
/// </remarks>
public static class ThroughputBenchmark
{
    internal const int Rows = 1_000;
    internal const int Dimension = 768;
    internal const int Shards = 16;
    private const int Rounds = 8;

    /// <summary>
    /// Rounds before the measured ones, not counted: engine start-up, collection creation on the target, and the JIT's
    /// tiering of the per-message code (called ~16 times a round, so it is still being recompiled in the first rounds).
    /// </summary>
    internal const int WarmUpRounds = 4;

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(9));
        var now = context.TimeProvider.GetUtcNow();
        var rows = (long)Rounds * Shards * Rows;
        var table = new StringBuilder()
            .AppendLine("# replication throughput")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Source: {Rounds} rounds (after {WarmUpRounds} warm-up rounds) x {Shards} pchannels; a round writes one Insert of {Rows:N0} rows x {Dimension}-dim float vectors")
            .AppendLine(CultureInfo.InvariantCulture, $"+ int64 pk into each pchannel, then a TimeTick on each (a 2.4 source): {rows:N0} rows in all (Kafka mock, librdkafka {Library.VersionString}).")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | .NET | reader fetch.wait.max.ms | fake target transport | MB | raw rows/s | raw MB/s | pipeline rows/s | pipeline MB/s | pipeline / raw | target | pipeline CPU (cores) | cold read MB/s |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var details = new StringBuilder();
        foreach (var (fetchWait, lean) in new (string?, bool)[] { (null, true), ("10", true), ("10", false) })
        {
            var transport = lean ? "lean h2c" : "Kestrel";
            var kafka = new KafkaSourceOptions
            {
                Address = PipelineHarness.KafkaBootstrap,
                Consumer = fetchWait is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["fetch.wait.max.ms"] = fetchWait },
            };
            await using var pipeline = await PipelineHarness.StartAsync("throughput", Dimension, Shards, applyRows: false, null, deadline.Token, leanTransport: lean);
            var result = await RunRoundsAsync(pipeline, Rounds, kafka, deadline.Token);
            var rawMbps = result.Bytes / result.Live.TotalSeconds / 1e6;
            var pipeMbps = result.Bytes / result.Pipeline.TotalSeconds / 1e6;
            var wait = fetchWait ?? "500 (default)";
            Console.WriteLine($"fetch.wait.max.ms {wait}, fake target {transport}: raw {rawMbps:F0} MB/s, pipeline {pipeMbps:F0} MB/s");
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {Environment.Version} | {wait} | {transport} | {result.Bytes / 1e6:F0} | {rows / result.Live.TotalSeconds:N0} | {rawMbps:F0} | {rows / result.Pipeline.TotalSeconds:N0} | {pipeMbps:F0} | {pipeMbps / rawMbps:P0} | >= 70% | {result.PipelineCpuSeconds / result.Pipeline.TotalSeconds:F2} | {result.Bytes / result.Raw.TotalSeconds / 1e6:F0} |");
            details
                .AppendLine(CultureInfo.InvariantCulture, $"fetch.wait.max.ms {wait}, fake target {transport}, per round: pipeline {Join(result.PipelineRounds)} ms; raw {Join(result.LiveRounds ?? [])} ms; cold read {Join(result.RawRounds)} ms.")
                .AppendLine(CultureInfo.InvariantCulture, $"Checkpoints while the engine ran ({Rounds + WarmUpRounds} rounds): {result.CheckpointWrites} event store appends/trims, {result.CheckpointTime.TotalMilliseconds:F0} ms in all, one at a time.")
                .AppendLine(CultureInfo.InvariantCulture, $"Process CPU over the measured rounds: pipeline {result.PipelineCpuSeconds:F2} s, raw {result.RawCpuSeconds:F2} s (both with the producer): the engine and the fake target cost")
                .AppendLine(CultureInfo.InvariantCulture, $"about {result.PipelineCpuSeconds - result.RawCpuSeconds:F2} CPU-s more for {result.Bytes / 1e6:F0} MB, {result.Bytes / 1e6 / Math.Max(0.01, result.PipelineCpuSeconds - result.RawCpuSeconds):F0} MB per CPU-second.")
                .AppendLine(CultureInfo.InvariantCulture, $"Garbage collection: pipeline (warm-up rounds included) {result.PipelineGc.Pause.TotalMilliseconds:F0} ms paused, {result.PipelineGc.Gen2} gen-2 collections; raw {result.RawGc.Pause.TotalMilliseconds:F0} ms, {result.RawGc.Gen2}.")
                .AppendLine();
        }

        details.AppendLine(CultureInfo.InvariantCulture, $"gRPC write only (MilvusTargetClient to the fake target, {Shards} concurrent writers, {WriteRounds} rounds of one 1,000-row Insert each, no Kafka, no")
            .AppendLine("engine; the fake target in a process of its own so each side's CPU time is known):");
        foreach (var lean in new[] { true, false })
        {
            var write = await WriteOnlyAsync(lean, deadline.Token);
            details.AppendLine(CultureInfo.InvariantCulture,
                $"- fake target on {(lean ? "the lean h2c transport" : "Kestrel")}: {write.MBps:F0} MB/s; the client (the server's side of the write) {write.ClientMBPerCpuSecond:F0} MB per CPU-second, the fake target {write.TargetMBPerCpuSecond:F0} MB per CPU-second, about {Shards * write.InsertBytes / 1e6 / write.TargetMBPerCpuSecond:F2} CPU-s per round.");
        }

        details.AppendLine();
        table
            .AppendLine()
            .Append(details)
            .AppendLine("Pipeline: the engine (server options) runs throughout; a round is timed from its first write to the fake target's")
            .AppendLine("acknowledgement of its last Insert; the CPU column is the process's CPU time in those intervals / their wall time (producer")
            .AppendLine("and fake target included). Raw: the same rounds (new ones, once the engine is stopped) read by plain Confluent.Kafka")
            .AppendLine(CultureInfo.InvariantCulture, $"{typeof(IConsumer<,>).Assembly.GetName().Version} consumers, one per pchannel on a thread of its own as in the engine, with the CDC reader's consumer")
            .AppendLine("settings (KafkaSourceOptions.ToConsumerConfig, the same fetch.wait.max.ms), timed from the round's first write to its last")
            .AppendLine("message: what the source delivers, nothing decoded or written. Both include writing the round (same producer, same process).")
            .AppendLine("Cold read: one plain consumer assigned the 16 partitions at a written round's first offsets, timed from the assignment to the")
            .AppendLine("round's last message: fetching alone, for reference.")
            .AppendLine()
            .AppendLine("MB = 10^6 bytes of message values (Inserts and ticks); rows = inserted rows. The pipeline and the fake target (real gRPC over")
            .AppendLine("HTTP/2 on loopback) share this process; the fake checks each message's header and advances its channel position but neither")
            .AppendLine("parses nor keeps the rows (a real Milvus would). PostgreSQL (checkpoints), etcd and the Kafka mock are separate processes on")
            .AppendLine("the same machine. Fake target transport: the fake target stands in for a Milvus on another machine, yet here it shares the 2")
            .AppendLine("cores; on Kestrel its HTTP/2 receive path takes about 3 times the CPU per MB of the lean h2c server (FakeMilvusOptions.")
            .AppendLine("LeanTransport, same handling, see the write-only lines), so the lean rows are the ones to judge the pipeline by, and the")
            .AppendLine("Kestrel row shows what the fake target's cost does to the figure.")
            .AppendLine()
            .AppendLine("Why rounds, timed from the first write: the mock keeps at most 5 MiB per partition (about one such Insert), so no backlog can")
            .AppendLine("be built and read \"from the beginning to the end\"; the source's limit here is how fast a round is written and read live.")
            .AppendLine("(The mock also hands a transaction's records to read-committed consumers before the commit, so a transaction cannot hide a")
            .AppendLine("round until it is complete.) Why two fetch waits: the mock holds a fetch that finds no data for the whole fetch.wait.max.ms")
            .AppendLine("(500 ms by default) even when data arrives meanwhile, where a real broker answers at once; 10 ms removes most of that")
            .AppendLine("artefact of the mock, and is the row to judge the pipeline by.");
        table.AppendLine().AppendLine(BenchmarkContext.MachineNote(loadBefore));
        var text = table.ToString();
        Console.WriteLine(text);
        await WriteAsync(context, "throughput.md", text);
    }

    private const int WriteRounds = 16;

    /// <summary>What <see cref="WriteOnlyAsync"/> measured.</summary>
    private sealed record WriteOnly(double MBps, double ClientMBPerCpuSecond, double TargetMBPerCpuSecond, int InsertBytes);

    /// <summary>
    /// The write side alone: rounds of 16 concurrent ReplicateMessage calls, each one Insert of the decode benchmark's
    /// size, through the engine's target client into a fake target running in a child process (this program with
    /// "fake-target"), so the CPU time of the client and of the fake target can be told apart (/proc/[pid]/stat).
    /// </summary>
    private static async Task<WriteOnly> WriteOnlyAsync(bool lean, CancellationToken ct)
    {
        var insert = DecodeBenchmark.BuildInsert();
        using var child = Process.Start(new ProcessStartInfo("dotnet", [typeof(ThroughputBenchmark).Assembly.Location, "fake-target", lean ? "lean" : "kestrel"])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
        }) ?? throw new InvalidOperationException("the fake target process did not start");
        try
        {
            var address = await child.StandardOutput.ReadLineAsync(ct) ?? throw new InvalidOperationException("the fake target process printed no address");
            await using var client = new Cdc.Infrastructure.Milvus.MilvusTargetFactory(new Cdc.Infrastructure.Milvus.MilvusClientOptions(), TimeProvider.System)
                .Create(new Cdc.Application.Replication.Ports.MilvusConnection(address, "", TimeSpan.FromSeconds(5), new Cdc.Application.Replication.Ports.MilvusDialConfig()));
            var ts = insert.Base.Timestamp;
            var payload = new System.Buffers.ReadOnlySequence<byte>(Google.Protobuf.MessageExtensions.ToByteArray(insert));
            Task RoundAsync() => Task.WhenAll(Enumerable.Range(0, Shards).Select(i => client.ReplicateMessageAsync(
                new Cdc.Application.Replication.Ports.TargetReplicatePack($"target-rootcoord-dml_{i}", new Cdc.Domain.Changes.HybridTimestamp(ts), new Cdc.Domain.Changes.HybridTimestamp(ts), [payload], [], []), ct)));
            for (var warmUp = 0; warmUp < 4; warmUp++)
            {
                await RoundAsync();
            }

            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var target0 = CpuSecondsOf(child.Id);
            var watch = Stopwatch.StartNew();
            for (var round = 0; round < WriteRounds; round++)
            {
                await RoundAsync();
            }

            watch.Stop();
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            var targetCpu = CpuSecondsOf(child.Id) - target0;
            var megabytes = (double)WriteRounds * Shards * payload.Length / 1e6;
            return new WriteOnly(megabytes / watch.Elapsed.TotalSeconds, megabytes / cpu, megabytes / Math.Max(0.01, targetCpu), (int)payload.Length);
        }
        finally
        {
            await child.StandardInput.WriteLineAsync();
            if (!child.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                child.Kill();
            }
        }
    }

    /// <summary>User + system CPU seconds of a process so far (/proc/[pid]/stat fields 14 and 15, in clock ticks of 1/100 s).</summary>
    private static double CpuSecondsOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static string Join(IEnumerable<TimeSpan> spans) =>
        string.Join(", ", spans.Select(r => r.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)));

    /// <summary>Writes a results file and says where.</summary>
    internal static async Task WriteAsync(BenchmarkContext context, string file, string text)
    {
        Directory.CreateDirectory(context.ResultsDirectory);
        var path = Path.Combine(context.ResultsDirectory, file);
        await File.WriteAllTextAsync(path, text);
        Console.WriteLine($"written to {path}");
    }

    /// <summary>What <see cref="RunRoundsAsync"/> measured, over the counted rounds.</summary>
    /// <param name="Raw">The cold reads: a consumer assigned once the round is written, fetching it all.</param>
    /// <param name="Live">The raw live readers: consumers reading all along, from the round's first write to its last message.</param>
    internal sealed record RoundsResult(
        long Bytes, TimeSpan Pipeline, double PipelineCpuSeconds, TimeSpan Raw,
        IReadOnlyList<TimeSpan> PipelineRounds, IReadOnlyList<TimeSpan> RawRounds,
        TimeSpan Live = default, IReadOnlyList<TimeSpan>? LiveRounds = null)
    {
        /// <summary>Event store appends and trims (checkpoints) while the engine ran, warm-up rounds included.</summary>
        public long CheckpointWrites { get; init; }

        /// <summary>Their summed duration (they are written one at a time).</summary>
        public TimeSpan CheckpointTime { get; init; }

        /// <summary>The process's CPU time during the raw rounds (producer and plain consumers).</summary>
        public double RawCpuSeconds { get; init; }

        /// <summary>Garbage collection while the engine ran (pause time, gen-2 collections) and during the raw rounds.</summary>
        public (TimeSpan Pause, int Gen2) PipelineGc { get; init; }

        public (TimeSpan Pause, int Gen2) RawGc { get; init; }
    }

    /// <summary>
    /// Runs <see cref="WarmUpRounds"/> warm-up rounds and <paramref name="rounds"/> measured ones through the engine (see the remarks on
    /// <see cref="ThroughputBenchmark"/>), stops it, then (when <paramref name="measureRaw"/>) as many rounds through
    /// the raw consumers.
    /// </summary>
    /// <param name="kafka">The engine's Kafka settings; the raw consumers use the same consumer config.</param>
    /// <param name="measureRaw">Whether the raw consumers run too; without them the bytes are those the target acknowledged.</param>
    /// <param name="beforeStop">Called after the engine's last round, while it still runs.</param>
    internal static async Task<RoundsResult> RunRoundsAsync(
        PipelineHarness pipeline, int rounds, KafkaSourceOptions kafka, CancellationToken ct, bool measureRaw = true, Action? beforeStop = null)
    {
        var vectors = PipelineHarness.Vectors(Rows, Dimension);
        var (run, stop) = pipeline.StartEngine(kafka);
        List<TimeSpan> pipelineRounds;
        var cpu = TimeSpan.Zero;
        var storeCalls = pipeline.EventStore.Calls;
        var storeTime = pipeline.EventStore.Total;
        var gc0 = (GC.GetTotalPauseDuration(), GC.CollectionCount(2));
        (TimeSpan, int) pipelineGc;
        try
        {
            pipelineRounds = await TimeRoundsAsync(pipeline, vectors, rounds, () => pipeline.InsertsAcknowledged, Shards, run, 0, ct,
                (_, _, cpuTime) => cpu += cpuTime);
            beforeStop?.Invoke();
            pipelineGc = (GC.GetTotalPauseDuration() - gc0.Item1, GC.CollectionCount(2) - gc0.Item2);
            storeCalls = pipeline.EventStore.Calls - storeCalls;
            storeTime = pipeline.EventStore.Total - storeTime;
        }
        finally
        {
            await PipelineHarness.StopAsync(run, stop);
        }

        if (!measureRaw)
        {
            return new RoundsResult(pipeline.InsertBytesAcknowledged, Sum(pipelineRounds), cpu.TotalSeconds, TimeSpan.Zero, pipelineRounds, [])
            {
                PipelineGc = pipelineGc,
                CheckpointWrites = storeCalls,
                CheckpointTime = storeTime,
            };
        }

        KafkaNativeLibrary.EnsureInstalled();
        using var cold = new ConsumerBuilder<Ignore, byte[]>(kafka.ToConsumerConfig()).Build();
        var coldRounds = new List<TimeSpan>();
        var bytes = 0L;
        using var live = new RawReaders(pipeline.Collection.PhysicalChannels, kafka);
        var rawCpu = TimeSpan.Zero;
        var rawGc0 = (GC.GetTotalPauseDuration(), GC.CollectionCount(2));
        var liveRounds = await TimeRoundsAsync(pipeline, vectors, rounds, () => live.Messages, 2 * Shards, live.Reading, (rounds + (long)WarmUpRounds) * Shards * Rows, ct,
            (_, _, cpuTime) => rawCpu += cpuTime,
            starts =>
            {
                var (roundBytes, elapsed) = ColdRead(cold, starts);
                bytes += roundBytes;
                coldRounds.Add(elapsed);
            });
        return new RoundsResult(bytes, Sum(pipelineRounds), cpu.TotalSeconds, Sum(coldRounds), pipelineRounds, coldRounds, Sum(liveRounds), liveRounds)
        {
            RawCpuSeconds = rawCpu.TotalSeconds,
            PipelineGc = pipelineGc,
            RawGc = (GC.GetTotalPauseDuration() - rawGc0.Item1, GC.CollectionCount(2) - rawGc0.Item2),
            CheckpointWrites = storeCalls,
            CheckpointTime = storeTime,
        };
    }

    /// <summary>Produces <see cref="WarmUpRounds"/> warm-up rounds and <paramref name="rounds"/> timed ones, each until <paramref name="count"/> grew by <paramref name="perRound"/>.</summary>
    private static async Task<List<TimeSpan>> TimeRoundsAsync(
        PipelineHarness pipeline, IReadOnlyList<float[]> vectors, int rounds, Func<long> count, int perRound, Task running,
        long firstKey, CancellationToken ct, Action<int, TimeSpan, TimeSpan>? measured, Action<IReadOnlyDictionary<string, long>>? afterRound = null)
    {
        var times = new List<TimeSpan>();
        var baseline = count();
        for (var round = -WarmUpRounds; round < rounds; round++)
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var starts = await ProduceRoundAsync(pipeline, vectors, firstKey + ((round + (long)WarmUpRounds) * Shards * Rows), ct);
            var expected = baseline + ((round + WarmUpRounds + 1L) * perRound);
            var limit = round < 0 ? TimeSpan.FromMinutes(1) : TimeSpan.FromSeconds(30);
            if (!await PipelineHarness.WaitAsync(() => count() >= expected, running, limit, TimeSpan.FromMilliseconds(1)))
            {
                throw new TimeoutException($"round {round}: {count() - baseline} of {expected - baseline} messages arrived within {limit.TotalSeconds} s");
            }

            watch.Stop();
            if (round >= 0)
            {
                // The warm-up rounds (engine start-up, collection creation on the target, JIT) are not counted.
                times.Add(watch.Elapsed);
                measured?.Invoke(round, watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu0);
                afterRound?.Invoke(starts);
            }
        }

        return times;
    }

    /// <summary>One Insert per pchannel, then a tick on each; returns each pchannel's first offset.</summary>
    private static async Task<Dictionary<string, long>> ProduceRoundAsync(
        PipelineHarness pipeline, IReadOnlyList<float[]> vectors, long firstKey, CancellationToken ct)
    {
        var collection = pipeline.Collection;
        var starts = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var shard = 0; shard < collection.VirtualChannels.Count; shard++)
        {
            var keys = Enumerable.Range(0, Rows).Select(i => firstKey + (shard * Rows) + i).ToArray();
            var written = await pipeline.Stream.InsertAsync(collection.VirtualChannels[shard], collection.Id, collection.Partitions[0].Id, keys, vectors, ct,
                collectionName: PipelineHarness.CollectionName);
            starts[written.Channel] = written.Offset;
        }

        await pipeline.Stream.TickAsync(ct);
        return starts;
    }

    /// <summary>Reads a written round's two messages (Insert, tick) on each partition with a consumer assigned now.</summary>
    private static (long Bytes, TimeSpan Elapsed) ColdRead(IConsumer<Ignore, byte[]> consumer, IReadOnlyDictionary<string, long> starts)
    {
        var watch = Stopwatch.StartNew();
        consumer.Assign(starts.Select(s => new TopicPartitionOffset(s.Key, new Partition(0), new Offset(s.Value))));
        var remaining = starts.Count * 2;
        var bytes = 0L;
        while (remaining > 0)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException("the raw consumer got no message within 10 s");
            bytes += result.Message.Value?.Length ?? 0;
            remaining--;
        }

        watch.Stop();
        consumer.Unassign();
        return (bytes, watch.Elapsed);
    }

    /// <summary>
    /// Live readers: one plain consumer per pchannel, as the engine has, each on a thread of its own reading from the
    /// current end, counting messages and value bytes; nothing decoded, nothing written.
    /// </summary>
    private sealed class RawReaders : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<IConsumer<Ignore, byte[]>> _consumers = [];
        private readonly Task[] _threads;
        private long _messages;
        private long _bytes;

        public RawReaders(IEnumerable<string> topics, KafkaSourceOptions kafka)
        {
            KafkaNativeLibrary.EnsureInstalled();
            foreach (var topic in topics.Distinct())
            {
                var consumer = new ConsumerBuilder<Ignore, byte[]>(kafka.ToConsumerConfig()).Build();
                var partition = new TopicPartition(topic, new Partition(0));
                var end = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High;
                consumer.Assign(new TopicPartitionOffset(partition, end));
                _consumers.Add(consumer);
            }

            _threads = [.. _consumers.Select(c => Task.Factory.StartNew(() => Read(c), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
            Reading = Task.WhenAll(_threads);
        }

        public long Messages => Interlocked.Read(ref _messages);

        public long Bytes => Interlocked.Read(ref _bytes);

        /// <summary>Completes only when a reader fails (or at dispose).</summary>
        public Task Reading { get; }

        private void Read(IConsumer<Ignore, byte[]> consumer)
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var result = consumer.Consume(_stop.Token);
                    Interlocked.Add(ref _bytes, result.Message.Value?.Length ?? 0);
                    Interlocked.Increment(ref _messages);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            Task.WaitAll(_threads, TimeSpan.FromSeconds(10));
            foreach (var consumer in _consumers)
            {
                consumer.Close();
                consumer.Dispose();
            }

            _stop.Dispose();
        }
    }

    private static TimeSpan Sum(IEnumerable<TimeSpan> spans) => spans.Aggregate(TimeSpan.Zero, (a, b) => a + b);
}
