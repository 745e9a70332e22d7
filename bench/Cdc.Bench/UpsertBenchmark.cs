using System.Globalization;
using System.Text;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Source.Kafka;
using static Cdc.Bench.PipelineHarness;
using static Cdc.Bench.ThroughputBenchmark;

namespace Cdc.Bench;

/// <summary>
/// Replication throughput in apply mode "upsert" next to apply mode "replicate", in the same run: two tasks of the same
/// layout (the throughput benchmark's rounds: one 1,000-row Insert of 768-dim vectors into each of 16 pchannels, then a
/// tick on each), one writing ReplicateMessage into a standby fake target, the other Upserts into an ordinary one
/// (ttMsgEnabled on), taking turns in blocks of rounds so a slow spell of the machine falls on both.
/// </summary>
public static class UpsertBenchmark
{
    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var kafka = new KafkaSourceOptions { Address = KafkaBootstrap, Consumer = new Dictionary<string, string> { ["fetch.wait.max.ms"] = "10" } };
        await using var replicate = await PipelineHarness.StartAsync("apply-replicate", Dimension, Shards, applyRows: false, null, deadline.Token);
        await using var upsert = await PipelineHarness.StartAsync("apply-upsert", Dimension, Shards, applyRows: false, null, deadline.Token, applyMode: ApplyMode.Upsert);
        PipelineHarness[] harnesses = [replicate, upsert];
        string[] names = ["replicate", "upsert"];

        var turns = await TakeTurnsAsync([.. harnesses.Select(h => new Side(h.Source, Shards, () => new EngineReader(h, kafka)))], deadline.Token);
        for (var i = 0; i < harnesses.Length; i++)
        {
            var expected = turns.RoundsRun[i] * Shards;
            // Sent again after a restart is at least once (see ThroughputBenchmark.CompareAsync); fewer would be a loss.
            if (harnesses[i].InsertsAcknowledged < expected)
                throw new InvalidOperationException($"in apply mode {names[i]} the target acknowledged {harnesses[i].InsertsAcknowledged} Inserts where the source wrote {expected}");
        }

        var (r, u) = (turns.Sides[0], turns.Sides[1]);
        var ratios = Enumerable.Range(0, Blocks).Select(b => u.MBps(b) / r.MBps(b)).ToList();
        Console.WriteLine($"replicate {r.MBps():F0} MB/s, upsert {u.MBps():F0} MB/s ({u.MBps() / r.MBps():P0}; blocks {string.Join(", ", ratios.Select(x => x.ToString("P0", CultureInfo.InvariantCulture)))})");

        var now = context.TimeProvider.GetUtcNow();
        var text = new StringBuilder()
            .AppendLine("# apply mode upsert vs replicate: replication throughput")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"A round writes one Insert of {Rows:N0} rows x {Dimension}-dim float vectors + int64 pk into each of {Shards} pchannels, then a TimeTick on each")
            .AppendLine(CultureInfo.InvariantCulture, $"(a 2.4 source; Kafka mock, reader fetch.wait.max.ms 10). Two tasks of that layout take turns in blocks of {RoundsPerBlock} measured rounds")
            .AppendLine(CultureInfo.InvariantCulture, $"(replicate, upsert, replicate, ...): warm-up pairs of blocks until the JIT is quiet ({turns.WarmUpPairs} here{(turns.JitQuiet ? "" : ", the JIT still busy after the last")}),")
            .AppendLine(CultureInfo.InvariantCulture, $"then {Blocks} measured pairs ({Blocks * RoundsPerBlock * Shards * Rows:N0} rows a mode).")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | .NET | mode | target calls | MB | rows/s | MB/s | CPU (cores) | upsert / replicate | per block pair |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|")
            .AppendLine(CultureInfo.InvariantCulture, $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {Environment.Version} | replicate | ReplicateMessage (Inserts ahead of their tick) | {r.Bytes / 1e6:F0} | {r.RowsPerSecond:N0} | {r.MBps():F0} | {r.Cores:F2} | | |")
            .AppendLine(CultureInfo.InvariantCulture, $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {Environment.Version} | upsert | Upsert (Inserts with their tick) | {u.Bytes / 1e6:F0} | {u.RowsPerSecond:N0} | {u.MBps():F0} | {u.Cores:F2} | **{u.MBps() / r.MBps():P0}** | {ratios.Min():P0}-{ratios.Max():P0} |")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- per round, by block: replicate {Join(r)}; upsert {Join(u)} ms.")
            .AppendLine(CultureInfo.InvariantCulture, $"- garbage collection in the measured rounds: replicate {r.GcPause.TotalMilliseconds:F0} ms paused, {r.Gen2} gen-2 collections; upsert {u.GcPause.TotalMilliseconds:F0} ms, {u.Gen2}.")
            .AppendLine()
            .AppendLine("Both tasks run the real engine with the server's options, each into a fake target of its own (Grpc.AspNetCore on Kestrel, real")
            .AppendLine("gRPC over HTTP/2 on loopback, in this process, neither keeping rows nor calls). A round is timed from its first write until")
            .AppendLine("the target acknowledged its last Insert: a ReplicateMessage carrying it in replicate mode, its Upsert in upsert mode. MB/s:")
            .AppendLine("bytes of the message values written in the measured rounds (Inserts and ticks, 10^6 bytes) over the sum of their times;")
            .AppendLine("\"per block pair\": the ratio within each pair of blocks run one after the other. CPU: the process's CPU time in the measured")
            .AppendLine("rounds over their wall time (producer, engine and fake target together).")
            .AppendLine()
            .AppendLine("What differs: in replicate mode each Insert goes to the target as soon as it is read, ahead of its tick, as one message of")
            .AppendLine("a ReplicateMessage that the fake target takes as bytes. In upsert mode an Insert waits for the tick that closes its pack")
            .AppendLine("(the Delete of a source upsert follows its Insert at the same timestamp and must reach the target first), then goes as an")
            .AppendLine("Upsert carrying its columns as they came (not decoded on the CDC's side); the fake target's Grpc.AspNetCore service decodes")
            .AppendLine("the UpsertRequest into its columns (every float of the vectors) and checks them against the schema, as a Milvus proxy")
            .AppendLine("would, which the ReplicateMessage side does not pay. The fake target stands in for a Milvus on another machine but here")
            .AppendLine("shares the 2 cores.")
            .AppendLine()
            .AppendLine(BenchmarkContext.MachineNote(loadBefore))
            .ToString();
        Console.WriteLine(text);
        await WriteAsync(context, "upsert.md", text);
    }
}
