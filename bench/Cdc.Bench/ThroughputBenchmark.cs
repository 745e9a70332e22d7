using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Source.Kafka;
using Cdc.Infrastructure.Target;
using Confluent.Kafka;
using static Cdc.Bench.PipelineHarness;

namespace Cdc.Bench;

/// <summary>
/// Replication throughput of the whole pipeline (Kafka readers, decoder, time-tick packer, rewriter, gRPC writer)
/// into the fake target, next to plain Confluent.Kafka consumers reading the same kind of messages: the source side's
/// physical limit here.
/// </summary>
/// <remarks>
/// librdkafka's mock cluster keeps at most 5 MiB per partition (<c>max_size</c>, fixed in rdkafka_mock.c), about one
/// 1,000-row Insert of 768-dim vectors, so no deep backlog can be built. The data therefore goes in rounds: each
/// round writes one Insert into each pchannel (16: the collection has 16 shards, Milvus' maximum; or 1 alone), then a
/// tick on each, and is timed from its first write until the pipeline's target acknowledged its last Insert, or until plain
/// consumers (one per pchannel, as the engine has) received its last message. The plain consumers read a second
/// source of the same layout that no task replicates, so the two sides can take turns in blocks of rounds: a slow
/// spell of the machine then falls on both.
/// </remarks>
public static partial class ThroughputBenchmark
{
    internal const int Rows = 1_000;
    internal const int Dimension = 768;
    internal const int Shards = 16;

    /// <summary>Blocks per side; the sides alternate, pipeline first.</summary>
    internal const int Blocks = 3;

    /// <summary>Measured rounds per block.</summary>
    internal const int RoundsPerBlock = 8;

    /// <summary>Rounds before the measured ones where a fixed number is enough (the memory benchmark).</summary>
    internal const int WarmUpRounds = 4;

    /// <summary>
    /// Warm-up: pairs of blocks as measured (the same restarts and alternation), until a pair spends less than
    /// <see cref="QuietJitShare"/> of its time in the JIT, at most this many pairs. The tiered JIT (with PGO)
    /// recompiles the pipeline's code for about the first 50 rounds, at up to 0.3 CPU-s a round; a server replicating
    /// for hours pays that once.
    /// </summary>
    private const int MaxWarmUpPairs = 12;

    private const double QuietJitShare = 0.02;

    /// <summary>
    /// The runs compared: the readers' fetch.wait.max.ms (null: librdkafka's 500 ms) and the pchannels (the
    /// collection's shards) a round writes to. One pchannel alone shows what one channel carries, the figure Milvus
    /// quotes for its own CDC.
    /// </summary>
    private static readonly (string? FetchWait, int Shards)[] Runs = [(null, Shards), ("10", Shards), ("10", 1)];

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var now = context.TimeProvider.GetUtcNow();
        var table = new StringBuilder()
            .AppendLine("# replication throughput")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"A round writes one Insert of {Rows:N0} rows x {Dimension}-dim float vectors + int64 pk into each pchannel of the collection (16, or")
            .AppendLine(CultureInfo.InvariantCulture, $"1), then a TimeTick on each (a 2.4 source; Kafka mock, librdkafka {Library.VersionString}). The sides take turns in blocks of {RoundsPerBlock} measured")
            .AppendLine(CultureInfo.InvariantCulture, $"rounds (pipeline, raw, pipeline, raw, ...): warm-up pairs of blocks until the JIT is quiet, then {Blocks} measured pairs. The fake")
            .AppendLine("target runs in a process of its own (Grpc.AspNetCore on Kestrel); its CPU is the last column, apart from the pipeline's.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | .NET | reader fetch.wait.max.ms | pchannels | MB per side | raw rows/s | raw MB/s | pipeline rows/s | pipeline MB/s | pipeline / raw | per block pair | target | pipeline CPU (cores) | raw CPU (cores) | fake target CPU (cores) |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var details = new StringBuilder();
        foreach (var (fetchWait, shards) in Runs)
        {
            var kafka = new KafkaSourceOptions
            {
                Address = KafkaBootstrap,
                Consumer = fetchWait is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["fetch.wait.max.ms"] = fetchWait },
            };
            await using var pipeline = await PipelineHarness.StartAsync("throughput", Dimension, shards, applyRows: false, null, deadline.Token, targetInOwnProcess: true);
            var result = await CompareAsync(pipeline, kafka, shards, deadline.Token);
            var (pipe, raw) = (result.Pipeline, result.Raw);
            var wait = fetchWait ?? "500 (default)";
            var ratios = Enumerable.Range(0, Blocks).Select(b => pipe.MBps(b) / raw.MBps(b)).ToList();
            Console.WriteLine($"fetch.wait.max.ms {wait}, {shards} pchannels: raw {raw.MBps():F0} MB/s, pipeline {pipe.MBps():F0} MB/s ({pipe.MBps() / raw.MBps():P0}; blocks {string.Join(", ", ratios.Select(r => r.ToString("P0", CultureInfo.InvariantCulture)))})");
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {Environment.Version} | {wait} | {shards} | {pipe.Bytes / 1e6:F0} | {raw.RowsPerSecond:N0} | {raw.MBps():F0} | {pipe.RowsPerSecond:N0} | {pipe.MBps():F0} | {pipe.MBps() / raw.MBps():P0} | {ratios.Min():P0}-{ratios.Max():P0} | >= 70% | {pipe.Cores:F2} | {raw.Cores:F2} | {pipe.TargetCores:F2} |");
            details
                .AppendLine(CultureInfo.InvariantCulture, $"fetch.wait.max.ms {wait}, {shards} pchannels:")
                .AppendLine(CultureInfo.InvariantCulture, $"- warm-up: {result.WarmUpPairs} pairs of blocks{(result.JitQuiet ? "" : " (the JIT was still busy after the last)")}; JIT time in the measured rounds: pipeline {pipe.Jit.TotalMilliseconds:F0} ms, raw {raw.Jit.TotalMilliseconds:F0} ms.")
                .AppendLine(CultureInfo.InvariantCulture, $"- per round, by block: pipeline {Join(pipe)}; raw {Join(raw)} ms.")
                .AppendLine(CultureInfo.InvariantCulture, $"- process CPU in the measured rounds: pipeline {pipe.CpuSeconds:F2} s, raw {raw.CpuSeconds:F2} s (both with the producer): the engine costs about")
                .AppendLine(CultureInfo.InvariantCulture, $"  {pipe.CpuSeconds - raw.CpuSeconds:F2} CPU-s more for {pipe.Bytes / 1e6:F0} MB, {pipe.Bytes / 1e6 / Math.Max(0.01, pipe.CpuSeconds - raw.CpuSeconds):F0} MB per CPU-second; the fake target's process used {pipe.TargetCpuSeconds:F2} CPU-s.")
                .AppendLine(CultureInfo.InvariantCulture, $"- garbage collection in the measured rounds: pipeline {pipe.GcPause.TotalMilliseconds:F0} ms paused, {pipe.Gen2} gen-2 collections; raw {raw.GcPause.TotalMilliseconds:F0} ms, {raw.Gen2}.")
                .AppendLine(CultureInfo.InvariantCulture, $"- checkpoints while the engine ran (warm-up included): {result.CheckpointWrites} event store appends/trims, {result.CheckpointTime.TotalMilliseconds:F0} ms in all, one at a time;")
                .AppendLine(CultureInfo.InvariantCulture, $"  {result.InsertsSentAgain} Inserts sent again by a restarted engine (the target had handled them as the block's engine was stopped, before it had the answer).")
                .AppendLine();
        }

        details.AppendLine(CultureInfo.InvariantCulture, $"gRPC write only (MilvusTargetClient to the fake target, {Shards} concurrent writers, {WriteRounds} rounds of one 1,000-row Insert each, no Kafka, no")
            .AppendLine("engine; the fake target in a process of its own so each side's CPU time is known):");
        var write = await WriteOnlyAsync(deadline.Token);
        details.AppendLine(CultureInfo.InvariantCulture,
            $"- {write.MBps:F0} MB/s; the client (the server's side of the write) {write.ClientMBPerCpuSecond:F0} MB per CPU-second, the fake target {write.TargetMBPerCpuSecond:F0} MB per CPU-second, about {Shards * write.InsertBytes / 1e6 / write.TargetMBPerCpuSecond:F2} CPU-s per round.");

        details.AppendLine();
        table
            .AppendLine()
            .Append(details)
            .AppendLine("Pipeline: the engine (server options) replicates the task's source; a round is timed from its first write to the fake")
            .AppendLine("target's acknowledgement of its last Insert. Raw: plain Confluent.Kafka")
            .AppendLine(CultureInfo.InvariantCulture, $"{typeof(IConsumer<,>).Assembly.GetName().Version} consumers, one per pchannel on a thread of its own as in the engine, with the CDC reader's consumer")
            .AppendLine("settings (KafkaSourceOptions.ToConsumerConfig, the same fetch.wait.max.ms), read a second source of the same layout that")
            .AppendLine("no task replicates; a round is timed from its first write to its last message: what the source delivers, nothing decoded or")
            .AppendLine("written. Both include writing the round (same producer, same process). Only one side runs at a time: the engine is stopped")
            .AppendLine("(and restarted from its checkpoints) around each raw block, the plain consumers are closed around each pipeline block, and")
            .AppendLine("each block starts with one round that is not counted. MB/s: bytes of the message values written in the measured rounds")
            .AppendLine("(Inserts and ticks, 10^6 bytes) over the sum of their times; \"per block pair\": the ratio within each pair of blocks run")
            .AppendLine("one after the other. CPU columns: a process's CPU time in the measured rounds / their wall time (the benchmark's process with")
            .AppendLine("the producer, and for the pipeline the engine; the fake target's process apart).")
            .AppendLine()
            .AppendLine("Warm-up: pairs of blocks like the measured ones until a pair spends under 2% of its time in the JIT. The JIT tiers the")
            .AppendLine("pipeline's code (tier 0, instrumented, optimized) for about the first 50 rounds, at up to 0.3 CPU-s a round: a start-up")
            .AppendLine("cost a server replicating for hours pays once, and which rounds measured right after a short warm-up were paying.")
            .AppendLine()
            .AppendLine("The fake target (real gRPC over HTTP/2 on loopback, in a process of its own) decodes each request (Google.Protobuf, which")
            .AppendLine("copies each message out of the request), reads each message's header and an Insert's row timestamps for its time-order")
            .AppendLine("checks, skipping the columns, and advances its channel position; it keeps no rows (a real Milvus would). Until 2026-12-05")
            .AppendLine("11:20 it parsed each Insert whole (about a fifth more of its CPU time). It stands in for a Milvus on another machine, yet")
            .AppendLine("here it shares the 2 cores with the pipeline. PostgreSQL (checkpoints), etcd and the Kafka mock are separate processes on")
            .AppendLine("the same machine. Until 2026-12-05 12:00 its Kestrel sockets waited for data before taking each 4 KB read buffer")
            .AppendLine("(Kestrel's default; about a tenth more of its CPU per MB).")
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
    /// size, through the engine's target client into a fake target running in a process of its own, so the CPU time of
    /// the client and of the fake target can be told apart.
    /// </summary>
    private static async Task<WriteOnly> WriteOnlyAsync(CancellationToken ct)
    {
        var insert = DecodeBenchmark.BuildInsert();
        await using var target = await FakeTargetProcess.StartAsync(ct);
        await using var client = new MilvusTargetFactory()
            .Create(new MilvusConnection(target.Uri.ToString(), "", TimeSpan.FromSeconds(5), new MilvusDialConfig()));
        var ts = insert.Base.Timestamp;
        var payload = new System.Buffers.ReadOnlySequence<byte>(Google.Protobuf.MessageExtensions.ToByteArray(insert));
        Task RoundAsync() => Task.WhenAll(Enumerable.Range(0, Shards).Select(i => client.ReplicateMessageAsync(
            new TargetReplicatePack($"target-rootcoord-dml_{i}", new Cdc.Domain.Changes.HybridTimestamp(ts), new Cdc.Domain.Changes.HybridTimestamp(ts), [payload], [], []), ct)));
        for (var warmUp = 0; warmUp < 4; warmUp++)
        {
            await RoundAsync();
        }

        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var target0 = target.Cpu;
        var watch = Stopwatch.StartNew();
        for (var round = 0; round < WriteRounds; round++)
        {
            await RoundAsync();
        }

        watch.Stop();
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        var targetCpu = (target.Cpu - target0).TotalSeconds;
        var megabytes = (double)WriteRounds * Shards * payload.Length / 1e6;
        return new WriteOnly(megabytes / watch.Elapsed.TotalSeconds, megabytes / cpu, megabytes / Math.Max(0.01, targetCpu), (int)payload.Length);
    }

    /// <summary>Writes a results file and says where.</summary>
    internal static async Task WriteAsync(BenchmarkContext context, string file, string text)
    {
        Directory.CreateDirectory(context.ResultsDirectory);
        var path = Path.Combine(context.ResultsDirectory, file);
        await File.WriteAllTextAsync(path, text);
        Console.WriteLine($"written to {path}");
    }

    /// <summary>One measured round.</summary>
    internal sealed record RoundSample(int Block, TimeSpan Wall, TimeSpan Cpu, TimeSpan Jit, TimeSpan GcPause, int Gen2, long Bytes, long Rows, TimeSpan TargetCpu);

    /// <summary>One side's measured rounds and warm-up.</summary>
    internal sealed class SideResult(IReadOnlyList<RoundSample> rounds)
    {
        public IReadOnlyList<RoundSample> Rounds => rounds;

        public long Bytes => rounds.Sum(r => r.Bytes);

        public double CpuSeconds => rounds.Sum(r => r.Cpu.TotalSeconds);

        public double Cores => CpuSeconds / rounds.Sum(r => r.Wall.TotalSeconds);

        public TimeSpan Jit => Sum(rounds.Select(r => r.Jit));

        public TimeSpan GcPause => Sum(rounds.Select(r => r.GcPause));

        public int Gen2 => rounds.Sum(r => r.Gen2);

        public double RowsPerSecond => (double)rounds.Sum(r => r.Rows) / rounds.Sum(r => r.Wall.TotalSeconds);

        /// <summary>CPU time of the fake target's process in the measured rounds (0 when it runs in this one).</summary>
        public double TargetCpuSeconds => rounds.Sum(r => r.TargetCpu.TotalSeconds);

        public double TargetCores => TargetCpuSeconds / rounds.Sum(r => r.Wall.TotalSeconds);

        /// <summary>MB/s over all measured rounds, or over one block's.</summary>
        public double MBps(int? block = null)
        {
            var of = rounds.Where(r => block is null || r.Block == block).ToList();
            return of.Sum(r => r.Bytes) / of.Sum(r => r.Wall.TotalSeconds) / 1e6;
        }
    }

    private sealed record Comparison(SideResult Pipeline, SideResult Raw, int WarmUpPairs, bool JitQuiet, long CheckpointWrites, TimeSpan CheckpointTime, long InsertsSentAgain);

    /// <summary>What reads one side's rounds: the engine into the fake target, or plain consumers; open for one block.</summary>
    internal interface IRoundReader : IAsyncDisposable
    {
        /// <summary>Messages handled so far: Inserts the target acknowledged, or messages the consumers received.</summary>
        long Messages { get; }

        /// <summary>Completes only if the reading fails.</summary>
        Task Running { get; }

        /// <summary>Completes once the reader reads every channel from where it stands, so nothing written after is missed.</summary>
        Task ReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>One side: its source, what one round adds to <see cref="IRoundReader.Messages"/>, and how to open its reader.</summary>
    internal sealed record Side(SimulatedSource Source, int MessagesPerRound, Func<IRoundReader> Open, Func<TimeSpan>? TargetCpu = null);

    /// <summary>The engine reading the source through <paramref name="channels"/>, from the task's checkpoints.</summary>
    internal sealed class EngineReader(PipelineHarness pipeline, ISourceChannels channels) : IRoundReader
    {
        public EngineReader(PipelineHarness pipeline, KafkaSourceOptions kafka)
            : this(pipeline, new KafkaSourceChannels(kafka))
        {
        }

        private readonly (Task Run, CancellationTokenSource Stop) _engine = pipeline.StartEngine(channels);

        public long Messages => pipeline.InsertsAcknowledged;

        public Task Running => _engine.Run;

        /// <summary>
        /// Until the engine has opened its readers where its checkpoints stand: the Kafka mock's retention (5 MiB a
        /// partition) deletes the oldest Insert as soon as the next is written, so a round written before the engine
        /// seeks would delete what it has still to read, and the task would halt.
        /// </summary>
        public Task ReadyAsync(CancellationToken cancellationToken) => pipeline.WaitUntilReadingAsync(_engine.Run, cancellationToken);

        public async ValueTask DisposeAsync() => await PipelineHarness.StopAsync(_engine.Run, _engine.Stop);
    }

    /// <summary>
    /// Warms both sides up, then runs <see cref="Blocks"/> blocks of <see cref="RoundsPerBlock"/> measured rounds on
    /// each, taking turns; checks that the target acknowledged each of the pipeline's Inserts once.
    /// </summary>
    private static Task<Comparison> CompareAsync(PipelineHarness pipeline, KafkaSourceOptions kafka, int shards, CancellationToken ct) =>
        CompareAsync(pipeline, new KafkaSourceChannels(kafka), source => new RawReaders(source.Collection.PhysicalChannels, kafka), shards, ct);

    /// <summary>
    /// As above, the engine reading through <paramref name="channels"/> and the plain side opened by
    /// <paramref name="openRaw"/> on a second source of the same layout.
    /// </summary>
    private static async Task<Comparison> CompareAsync(
        PipelineHarness pipeline, ISourceChannels channels, Func<SimulatedSource, IRoundReader> openRaw, int shards, CancellationToken ct)
    {
        var rawSource = await pipeline.AddUnreplicatedSourceAsync(ct);
        var storeCalls = pipeline.EventStore.Calls;
        var storeTime = pipeline.EventStore.Total;
        var turns = await TakeTurnsAsync(
        [
            new Side(pipeline.Source, shards, () => new EngineReader(pipeline, channels), pipeline.TargetProcess is { } target ? () => target.Cpu : null),
            new Side(rawSource, 2 * shards, () => openRaw(rawSource)),
        ], ct);

        var expected = turns.RoundsRun[0] * shards;
        // Each block stops the engine right after the target handled the round's last Insert, sometimes before the engine
        // had its answer: that Insert is sent again by the next run (at least once). Fewer would be a loss.
        if (pipeline.InsertsAcknowledged < expected)
        {
            throw new InvalidOperationException($"the target acknowledged {pipeline.InsertsAcknowledged} Inserts where the source wrote {expected}");
        }

        return new Comparison(turns.Sides[0], turns.Sides[1], turns.WarmUpPairs, turns.JitQuiet,
            pipeline.EventStore.Calls - storeCalls, pipeline.EventStore.Total - storeTime, pipeline.InsertsAcknowledged - expected);
    }

    /// <summary>What <see cref="TakeTurnsAsync"/> measured: each side's measured rounds, and every round each side ran.</summary>
    internal sealed record Turns(IReadOnlyList<SideResult> Sides, IReadOnlyList<long> RoundsRun, int WarmUpPairs, bool JitQuiet);

    /// <summary>
    /// Sides taking turns in blocks: warm-up rounds of blocks until the JIT is quiet, then <see cref="Blocks"/> measured
    /// blocks of <see cref="RoundsPerBlock"/> rounds on each side, in the order given.
    /// </summary>
    internal static async Task<Turns> TakeTurnsAsync(IReadOnlyList<Side> sides, CancellationToken ct)
    {
        var vectors = Vectors(Rows, Dimension);
        var nextKey = 0L;
        var roundsRun = new long[sides.Count];

        // One block on one side: the reader opened, a round that is not counted (connections, consumer start), the
        // measured rounds, the reader closed.
        async Task<List<RoundSample>> BlockAsync(int s, int block)
        {
            var samples = new List<RoundSample>();
            await using var reader = sides[s].Open();
            await reader.ReadyAsync(ct);
            for (var round = -1; round < RoundsPerBlock; round++)
            {
                var sample = await RoundAsync(sides[s], reader, vectors, nextKey, block, ct);
                nextKey += Shards * Rows;
                roundsRun[s]++;
                if (round >= 0)
                {
                    samples.Add(sample);
                }
            }

            return samples;
        }

        var (pairs, quiet) = (0, false);
        while (!quiet && pairs < MaxWarmUpPairs)
        {
            var warm = new List<RoundSample>();
            for (var s = 0; s < sides.Count; s++)
            {
                warm.AddRange(await BlockAsync(s, -1));
            }

            pairs++;
            quiet = Sum(warm.Select(r => r.Jit)) < Sum(warm.Select(r => r.Wall)) * QuietJitShare;
        }

        var measured = sides.Select(_ => new List<RoundSample>()).ToArray();
        for (var block = 0; block < Blocks; block++)
        {
            for (var s = 0; s < sides.Count; s++)
            {
                measured[s].AddRange(await BlockAsync(s, block));
            }
        }

        return new Turns([.. measured.Select(m => new SideResult(m))], roundsRun, pairs, quiet);
    }

    /// <summary>Writes one round on a side's source and waits until its reader handled it; what it took.</summary>
    internal static async Task<RoundSample> RoundAsync(Side side, IRoundReader reader, IReadOnlyList<float[]> vectors, long firstKey, int block, CancellationToken ct)
    {
        var expected = reader.Messages + side.MessagesPerRound;
        var bytes0 = side.Source.Stream.BytesWritten;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var jit0 = JitInfo.GetCompilationTime();
        var gc0 = (GC.GetTotalPauseDuration(), GC.CollectionCount(2));
        var target0 = side.TargetCpu?.Invoke() ?? TimeSpan.Zero;
        var watch = Stopwatch.StartNew();
        await ProduceRoundAsync(side.Source, vectors, firstKey, ct);
        var limit = TimeSpan.FromSeconds(60);
        if (!await WaitAsync(() => reader.Messages >= expected, reader.Running, limit, TimeSpan.FromMilliseconds(1)))
        {
            throw new TimeoutException($"{expected - reader.Messages} of a round's {side.MessagesPerRound} messages did not arrive within {limit.TotalSeconds} s");
        }

        watch.Stop();
        return new RoundSample(block, watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu0, JitInfo.GetCompilationTime() - jit0,
            GC.GetTotalPauseDuration() - gc0.Item1, GC.CollectionCount(2) - gc0.Item2, side.Source.Stream.BytesWritten - bytes0,
            (long)side.Source.Collection.VirtualChannels.Count * Rows, (side.TargetCpu?.Invoke() ?? TimeSpan.Zero) - target0);
    }

    /// <summary>
    /// Replicates <see cref="WarmUpRounds"/> and then <paramref name="rounds"/> rounds through the engine, one at a
    /// time; <paramref name="beforeStop"/> is called after the last, while the engine still runs. Returns the bytes of
    /// the Inserts the target acknowledged and the time of the counted rounds.
    /// </summary>
    internal static async Task<(long Bytes, TimeSpan Elapsed)> ReplicateRoundsAsync(
        PipelineHarness pipeline, int rounds, KafkaSourceOptions kafka, CancellationToken ct, Action? beforeStop = null)
    {
        var vectors = Vectors(Rows, Dimension);
        var side = new Side(pipeline.Source, Shards, () => new EngineReader(pipeline, kafka));
        var elapsed = TimeSpan.Zero;
        await using (var reader = side.Open())
        {
            await reader.ReadyAsync(ct);
            for (var round = -WarmUpRounds; round < rounds; round++)
            {
                var sample = await RoundAsync(side, reader, vectors, (round + (long)WarmUpRounds) * Shards * Rows, 0, ct);
                elapsed += round >= 0 ? sample.Wall : TimeSpan.Zero;
            }

            beforeStop?.Invoke();
        }

        return (pipeline.InsertBytesAcknowledged, elapsed);
    }

    /// <summary>
    /// One Insert of <paramref name="vectors"/> (keys from <paramref name="firstKey"/> on) per pchannel, then, unless
    /// asked not to, a tick on each; returns the Inserts written.
    /// </summary>
    internal static async Task<int> ProduceRoundAsync(SimulatedSource source, IReadOnlyList<float[]> vectors, long firstKey, CancellationToken ct, bool tick = true)
    {
        var collection = source.Collection;
        for (var shard = 0; shard < collection.VirtualChannels.Count; shard++)
        {
            var keys = Enumerable.Range(0, vectors.Count).Select(i => firstKey + (shard * vectors.Count) + i).ToArray();
            await source.Stream.InsertAsync(collection.VirtualChannels[shard], collection.Id, collection.Partitions[0].Id, keys, vectors, ct,
                collectionName: CollectionName);
        }

        if (tick) await source.Stream.TickAsync(ct);
        return collection.VirtualChannels.Count;
    }

    internal static string Join(SideResult side) =>
        string.Join(" | ", side.Rounds.GroupBy(r => r.Block).Select(b => string.Join(", ", b.Select(r => r.Wall.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)))));

    /// <summary>
    /// Live readers: one plain consumer per pchannel, as the engine has, each on a thread of its own reading from the
    /// current end, counting messages; nothing decoded, nothing written.
    /// </summary>
    private sealed class RawReaders : IRoundReader
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<IConsumer<Ignore, byte[]>> _consumers = [];
        private readonly Task[] _threads;
        private long _messages;

        public RawReaders(IEnumerable<string> topics, KafkaSourceOptions kafka)
        {
            foreach (var topic in topics.Distinct())
            {
                var consumer = new ConsumerBuilder<Ignore, byte[]>(kafka.ToConsumerConfig()).Build();
                var partition = new TopicPartition(topic, new Partition(0));
                var end = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High;
                consumer.Assign(new TopicPartitionOffset(partition, end));
                _consumers.Add(consumer);
            }

            _threads = [.. _consumers.Select(c => Task.Factory.StartNew(() => Read(c), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
            Running = Task.WhenAll(_threads);
        }

        public long Messages => Interlocked.Read(ref _messages);

        /// <summary>Completes only when a reader fails (or at dispose).</summary>
        public Task Running { get; }

        private void Read(IConsumer<Ignore, byte[]> consumer)
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var result = consumer.Consume(_stop.Token);
                    Interlocked.Increment(ref _messages);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        }

        public ValueTask DisposeAsync()
        {
            _stop.Cancel();
            Task.WaitAll(_threads, TimeSpan.FromSeconds(10));
            foreach (var consumer in _consumers)
            {
                consumer.Close();
                consumer.Dispose();
            }

            _stop.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static TimeSpan Sum(IEnumerable<TimeSpan> spans) => spans.Aggregate(TimeSpan.Zero, (a, b) => a + b);
}
