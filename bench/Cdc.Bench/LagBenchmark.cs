using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cdc.Infrastructure.Kafka;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Google.Protobuf;

namespace Cdc.Bench;

/// <summary>
/// End-to-end lag at a steady moderate rate: from an Insert being produced to the source Kafka until the fake target
/// acknowledges the ReplicateMessage that carries it, with the source's time ticks at two intervals. Split into the
/// wait for the next time tick (a pack closes only at a tick) and the pipeline's own part after that tick.
/// </summary>
public static class LagBenchmark
{
    private const int Rows = 100;
    private const int Dimension = 768;
    private const int InsertsPerSecond = 20;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MeasureFor = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Tick interval and the readers' fetch.wait.max.ms (null: librdkafka's 500 ms). The Kafka mock answers a fetch
    /// that finds no data only after the whole wait, even when data arrives meanwhile (rdkafka_mock_handlers.c: "this
    /// isn't strictly correct"); a real broker answers as soon as fetch.min.bytes (1) is there. A short wait makes the
    /// mock behave like a real broker in that respect.
    /// </summary>
    private static readonly (TimeSpan Tick, string? FetchWait)[] Phases =
    [
        (TimeSpan.FromMilliseconds(200), null),
        (TimeSpan.FromMilliseconds(200), "10"),
        (TimeSpan.FromMilliseconds(50), "10"),
    ];

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var results = new List<(TimeSpan Tick, string Wait, Summary Total, Summary AfterTick, int Samples)>();
        foreach (var (tick, fetchWait) in Phases)
        {
            var (total, afterTick, samples) = await RunPhaseAsync(tick, fetchWait, deadline.Token);
            var wait = fetchWait is null ? "500 (default)" : fetchWait;
            results.Add((tick, wait, total, afterTick, samples));
            Console.WriteLine($"tick {tick.TotalMilliseconds} ms, fetch.wait.max.ms {wait}: p50 {total.P50:F0} ms, p99 {total.P99:F0} ms");
        }

        var now = context.TimeProvider.GetUtcNow();
        var table = new StringBuilder()
            .AppendLine("# end-to-end lag")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Steady load: {InsertsPerSecond} Inserts/s of {Rows} rows x {Dimension}-dim float vectors (about {Rows * Dimension * 4 * InsertsPerSecond / 1e6:F0} MB/s) into one pchannel, a")
            .AppendLine(CultureInfo.InvariantCulture, $"TimeTick every interval below (Milvus: 200 ms); {WarmUp.TotalSeconds:0} s warm-up, then {MeasureFor.TotalSeconds:0} s measured per interval.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | tick interval ms | reader fetch.wait.max.ms | samples | lag p50 ms | lag p99 ms | max ms | after-tick p50 ms | after-tick p99 ms | target p99 |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {r.Tick.TotalMilliseconds:0} | {r.Wait} | {r.Samples} | {r.Total.P50:F0} | {r.Total.P99:F0} | {r.Total.Max:F0} | {r.AfterTick.P50:F0} | {r.AfterTick.P99:F0} | < 200 ms |");
        }

        table
            .AppendLine()
            .AppendLine("Lag: from just before the Insert is handed to the Kafka producer (acks=all) until the fake target has handled the")
            .AppendLine("ReplicateMessage carrying it (before its answer is written). After-tick: from the moment the tick that closes the Insert's")
            .AppendLine("pack was acknowledged by Kafka to the same end; the rest of the lag is the wait for that tick, which only the source's")
            .AppendLine("tick interval sets (a pack is sent when the tick that ends it arrives). Producer, engine and fake target share this process.")
            .AppendLine("The fake target neither parses nor keeps the rows. Each row is a pipeline of its own (new topics, engine, fake target).")
            .AppendLine()
            .AppendLine("fetch.wait.max.ms: the Kafka mock holds a fetch that finds no data for the whole wait (librdkafka's default 500 ms), even when")
            .AppendLine("data arrives meanwhile; a real broker answers as soon as there is data. With the default, the lag is mostly that wait; the rows")
            .AppendLine("with 10 ms (set through sourceConfig.kafka.consumer) show what the pipeline adds against a broker that answers at once.");
        table.AppendLine().AppendLine(BenchmarkContext.MachineNote(loadBefore));
        var text = table.ToString();
        Console.WriteLine(text);
        await ThroughputBenchmark.WriteAsync(context, "lag.md", text);
    }

    /// <summary>One tick interval and fetch wait on a pipeline of its own: warm-up, then the measured inserts.</summary>
    private static async Task<(Summary Total, Summary AfterTick, int Samples)> RunPhaseAsync(TimeSpan interval, string? fetchWait, CancellationToken ct)
    {
        var produced = new ConcurrentDictionary<long, Produced>();
        var acknowledged = new ConcurrentDictionary<long, long>();
        var parser = InsertRequest.Parser.WithDiscardUnknownFields(true);
        void OnInsert(ByteString bytes)
        {
            var now = Stopwatch.GetTimestamp();
            var insert = parser.ParseFrom(bytes);
            acknowledged.TryAdd(insert.FieldsData.First(f => f.FieldName == "pk").Scalars.LongData.Data[0], now);
        }

        await using var pipeline = await PipelineHarness.StartAsync("lag", Dimension, shards: 1, applyRows: false, OnInsert, ct);
        var kafka = new KafkaSourceOptions
        {
            Address = PipelineHarness.KafkaBootstrap,
            Consumer = fetchWait is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["fetch.wait.max.ms"] = fetchWait },
        };
        var (run, stop) = pipeline.StartEngine(kafka);
        try
        {
            var ticks = new ConcurrentQueue<long>();
            using var phase = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var tickLoop = TickAsync(pipeline, interval, ticks, phase.Token);
            var firstKey = await InsertAsync(pipeline, 0, produced, WarmUp, ct);
            var nextKey = await InsertAsync(pipeline, firstKey, produced, MeasureFor, ct);
            var keys = Enumerable.Range((int)firstKey, (int)(nextKey - firstKey)).Select(k => (long)k * Rows).ToList();
            await PipelineHarness.WaitAsync(() => keys.All(acknowledged.ContainsKey), run, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(20));
            await phase.CancelAsync();
            await tickLoop;
            var tickTimes = ticks.ToArray();
            var total = new List<double>();
            var afterTick = new List<double>();
            foreach (var key in keys.Where(acknowledged.ContainsKey))
            {
                var insert = produced[key];
                var ack = acknowledged[key];
                total.Add(Stopwatch.GetElapsedTime(insert.Started, ack).TotalMilliseconds);
                // The first tick written after the Insert closes its pack (ticks are serialized with inserts).
                var tick = tickTimes.FirstOrDefault(t => t >= insert.Written);
                if (tick != 0)
                {
                    afterTick.Add(Math.Max(0, Stopwatch.GetElapsedTime(tick, ack).TotalMilliseconds));
                }
            }

            if (keys.Count > total.Count)
            {
                Console.WriteLine($"{keys.Count - total.Count} inserts not acknowledged within 20 s (left out)");
            }

            return (Summary.Of(total), Summary.Of(afterTick), total.Count);
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
            produced[keys[0]] = new Produced(started, Stopwatch.GetTimestamp());
            batch++;
        }

        return batch;
    }

    /// <summary>Writes a tick every <paramref name="interval"/>, noting when each was acknowledged by Kafka.</summary>
    private static async Task TickAsync(PipelineHarness pipeline, TimeSpan interval, ConcurrentQueue<long> ticks, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await pipeline.Stream.TickAsync(ct);
                ticks.Enqueue(Stopwatch.GetTimestamp());
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record Produced(long Started, long Written);

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
