using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cdc.Application.Replication.Running;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Source.Kafka;
using Google.Protobuf;

namespace Cdc.Bench;

/// <summary>
/// End-to-end lag at a steady moderate rate: from an Insert being produced to the source Kafka until the fake target
/// acknowledges the ReplicateMessage that carries it, and until it acknowledged the CDC time tick that makes it visible
/// to the target's consumers; with the source's time ticks at two intervals, and with DML sent ahead of its tick (the
/// server's default) or held until the tick (as the reference does).
/// </summary>
public static class LagBenchmark
{
    private const int Rows = 100;
    private const int Dimension = 768;
    private const int InsertsPerSecond = 20;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MeasureFor = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Tick interval, the readers' fetch.wait.max.ms (null: librdkafka's 500 ms) and whether DML goes ahead of its
    /// tick. The Kafka mock answers a fetch that finds no data only after the whole wait, even when data arrives
    /// meanwhile (rdkafka_mock_handlers.c: "this isn't strictly correct"); a real broker answers as soon as
    /// fetch.min.bytes (1) is there. A short wait makes the mock behave like a real broker in that respect.
    /// </summary>
    private static readonly (TimeSpan Tick, string? FetchWait, bool Ahead)[] Phases =
    [
        (TimeSpan.FromMilliseconds(200), null, true),
        (TimeSpan.FromMilliseconds(200), "10", true),
        (TimeSpan.FromMilliseconds(200), "10", false),
        (TimeSpan.FromMilliseconds(50), "10", true),
    ];

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var results = new List<(TimeSpan Tick, string Wait, bool Ahead, Summary Total, Summary Visible, int Samples)>();
        foreach (var (tick, fetchWait, ahead) in Phases)
        {
            var (total, visible, samples) = await RunPhaseAsync(tick, fetchWait, ahead, deadline.Token);
            var wait = fetchWait is null ? "500 (default)" : fetchWait;
            results.Add((tick, wait, ahead, total, visible, samples));
            Console.WriteLine($"tick {tick.TotalMilliseconds} ms, fetch.wait.max.ms {wait}, ahead {ahead}: p50 {total.P50:F0} ms, p99 {total.P99:F0} ms; visible p50 {visible.P50:F0} ms, p99 {visible.P99:F0} ms");
        }

        var now = context.TimeProvider.GetUtcNow();
        var table = new StringBuilder()
            .AppendLine("# end-to-end lag")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Steady load: {InsertsPerSecond} Inserts/s of {Rows} rows x {Dimension}-dim float vectors (about {Rows * Dimension * 4 * InsertsPerSecond / 1e6:F0} MB/s) into one pchannel, a")
            .AppendLine(CultureInfo.InvariantCulture, $"TimeTick every interval below (Milvus: 200 ms); {WarmUp.TotalSeconds:0} s warm-up, then {MeasureFor.TotalSeconds:0} s measured per row.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | tick interval ms | reader fetch.wait.max.ms | DML | samples | lag p50 ms | lag p99 ms | max ms | visible p50 ms | visible p99 ms | target p99 |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            var dml = r.Ahead ? "ahead of tick (default)" : "held until tick";
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {r.Tick.TotalMilliseconds:0} | {r.Wait} | {dml} | {r.Samples} | {r.Total.P50:F0} | {r.Total.P99:F0} | {r.Total.Max:F0} | {r.Visible.P50:F0} | {r.Visible.P99:F0} | < 200 ms |");
        }

        table
            .AppendLine()
            .AppendLine("Lag: from just before the Insert is handed to the Kafka producer (acks=all) until the fake target has handled the")
            .AppendLine("ReplicateMessage carrying it (before its answer is written): the rows are in the target's channel, safe from a loss of the")
            .AppendLine("source. Visible: until the target handled the CDC time tick at or above the Insert's timestamp, which lets the target's")
            .AppendLine("consumers take it; that cannot come before the source's own tick, so its floor is the source's tick interval.")
            .AppendLine("DML ahead of tick: an Insert goes to the target as soon as it is read (TaskReplicationRun.SendAheadAsync), its tick follows")
            .AppendLine("at once when read. Held until tick: the reference's way, a pack is sent when the tick that ends it arrives.")
            .AppendLine("Producer, engine and fake target share this process; the fake target neither parses nor keeps the rows. Each row is a")
            .AppendLine("pipeline of its own (new topics, engine, fake target).")
            .AppendLine()
            .AppendLine("fetch.wait.max.ms: the Kafka mock holds a fetch that finds no data for the whole wait (librdkafka's default 500 ms), even when")
            .AppendLine("data arrives meanwhile; a real broker answers as soon as there is data. With the default, the lag is mostly that wait; the rows")
            .AppendLine("with 10 ms (set through sourceConfig.kafka.consumer) show what the pipeline adds against a broker that answers at once.");
        table.AppendLine().AppendLine(BenchmarkContext.MachineNote(loadBefore));
        var text = table.ToString();
        Console.WriteLine(text);
        await ThroughputBenchmark.WriteAsync(context, "lag.md", text);
    }

    /// <summary>One row on a pipeline of its own: warm-up, then the measured inserts.</summary>
    private static async Task<(Summary Total, Summary Visible, int Samples)> RunPhaseAsync(
        TimeSpan interval, string? fetchWait, bool ahead, CancellationToken ct)
    {
        var produced = new ConcurrentDictionary<long, Produced>();
        var acknowledged = new ConcurrentDictionary<long, (long At, ulong Ts)>();
        var ticks = new ConcurrentQueue<(ulong Ts, long At)>();
        var parser = InsertRequest.Parser.WithDiscardUnknownFields(true);
        void OnInsert(ByteString bytes)
        {
            var now = Stopwatch.GetTimestamp();
            var insert = parser.ParseFrom(bytes);
            acknowledged.TryAdd(insert.FieldsData.First(f => f.FieldName == "pk").Scalars.LongData.Data[0], (now, insert.Base.Timestamp));
        }

        void OnTick(ulong ts) => ticks.Enqueue((ts, Stopwatch.GetTimestamp()));

        await using var pipeline = await PipelineHarness.StartAsync("lag", Dimension, shards: 1, applyRows: false, OnInsert, ct, OnTick);
        var kafka = new KafkaSourceOptions
        {
            Address = PipelineHarness.KafkaBootstrap,
            Consumer = fetchWait is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["fetch.wait.max.ms"] = fetchWait },
        };
        var (run, stop) = pipeline.StartEngine(kafka, ahead);
        try
        {
            using var phase = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var tickLoop = TickAsync(pipeline, interval, phase.Token);
            var firstKey = await InsertAsync(pipeline, 0, produced, WarmUp, ct);
            var nextKey = await InsertAsync(pipeline, firstKey, produced, MeasureFor, ct);
            var keys = Enumerable.Range((int)firstKey, (int)(nextKey - firstKey)).Select(k => (long)k * Rows).ToList();
            bool Visible(long key) => acknowledged.TryGetValue(key, out var a) && ticks.Any(t => t.Ts >= a.Ts);
            await PipelineHarness.WaitAsync(() => keys.All(Visible), run, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(20));
            await phase.CancelAsync();
            await tickLoop;
            var tickAcks = ticks.ToArray();
            var total = new List<double>();
            var visible = new List<double>();
            foreach (var key in keys.Where(acknowledged.ContainsKey))
            {
                var insert = produced[key];
                var (ack, ts) = acknowledged[key];
                total.Add(Stopwatch.GetElapsedTime(insert.Started, ack).TotalMilliseconds);
                // The first tick at or above the Insert's timestamp the target acknowledged (one channel: in order).
                var tick = tickAcks.FirstOrDefault(t => t.Ts >= ts);
                if (tick.At != 0)
                {
                    visible.Add(Stopwatch.GetElapsedTime(insert.Started, Math.Max(tick.At, ack)).TotalMilliseconds);
                }
            }

            if (keys.Count > total.Count)
            {
                Console.WriteLine($"{keys.Count - total.Count} inserts not acknowledged within 20 s (left out)");
            }

            return (Summary.Of(total), Summary.Of(visible), total.Count);
        }
        finally
        {
            await PipelineHarness.StopAsync(run, stop);
        }
    }

    /// <summary>Inserts at the steady rate for <paramref name="duration"/>; returns the next batch number.</summary>
    private static async Task<long> InsertAsync(
        PipelineHarness pipeline, long batch, ConcurrentDictionary<long, Produced> produced, TimeSpan duration, CancellationToken ct)
    {
        var vectors = PipelineHarness.Vectors(Rows, Dimension);
        var collection = pipeline.Collection;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / InsertsPerSecond));
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end && await timer.WaitForNextTickAsync(ct))
        {
            var keys = Enumerable.Range(0, Rows).Select(i => batch * Rows + i).ToArray();
            var started = Stopwatch.GetTimestamp();
            await pipeline.Stream.InsertAsync(collection.VirtualChannels[0], collection.Id, collection.Partitions[0].Id, keys, vectors, ct,
                collectionName: PipelineHarness.CollectionName);
            produced[keys[0]] = new Produced(started);
            batch++;
        }

        return batch;
    }

    /// <summary>Writes a source tick every <paramref name="interval"/>.</summary>
    private static async Task TickAsync(PipelineHarness pipeline, TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await pipeline.Stream.TickAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record Produced(long Started);

    /// <summary>Percentiles (nearest rank) of a sample in milliseconds.</summary>
    internal sealed record Summary(double P50, double P99, double Max)
    {
        public static Summary Of(IReadOnlyCollection<double> samples)
        {
            if (samples.Count == 0)
            {
                return new Summary(double.NaN, double.NaN, double.NaN);
            }

            var sorted = samples.Order().ToArray();
            return new Summary(Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1]);
        }

        private static double Percentile(double[] sorted, double p) =>
            sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
