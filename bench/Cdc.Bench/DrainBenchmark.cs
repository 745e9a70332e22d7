using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cdc.Infrastructure.Source.Kafka;

namespace Cdc.Bench;

/// <summary>
/// Catch-up after a target outage: a steady stream of Inserts into every pchannel, the fake target taken off the
/// network for 30 s and put back, then how long the backlog took to reach the target and at what rate, beside the
/// pipeline's full throughput measured in the same run on the same pipeline (rounds of one Insert per pchannel
/// written and acknowledged back to back, the same messages as the stream).
/// </summary>
public static class DrainBenchmark
{
    private const int Rows = 100;
    private const int Dimension = 768;
    private const int Shards = 16;

    /// <summary>
    /// One Insert per pchannel every this long: about 100 KB/s per pchannel, so the 30 s backlog (about 3.5 MB a
    /// pchannel) stays under the 5 MiB per partition the Kafka mock keeps (rdkafka_mock.c), and nothing the task has
    /// not read is deleted by the mock's retention.
    /// </summary>
    private static readonly TimeSpan StreamInterval = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private const int FullSpeedRounds = 40;
    private const int WarmUpRounds = 10;

    /// <summary>The goal: the backlog drains at this share of the full throughput or more.</summary>
    private const double Goal = 0.9;

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var ct = deadline.Token;
        await using var pipeline = await PipelineHarness.StartAsync("drain", Dimension, Shards, applyRows: false, null, ct);
        // A fetch that finds no data returns after 10 ms, as a real broker would when data arrives (see LagBenchmark).
        var kafka = new KafkaSourceOptions
        {
            Address = PipelineHarness.KafkaBootstrap,
            Consumer = new Dictionary<string, string> { ["fetch.wait.max.ms"] = "10" },
        };
        var (run, stop) = pipeline.StartEngine(kafka);
        var vectors = PipelineHarness.Vectors(Rows, Dimension);
        long nextKey = 0;
        // One Insert into every pchannel (and a tick on each, when asked), with keys not used before.
        async Task<int> InsertIntoEveryChannelAsync(bool tick)
        {
            var first = nextKey;
            nextKey += (long)Shards * Rows;
            return await ThroughputBenchmark.ProduceRoundAsync(pipeline.Source, vectors, first, ct, tick);
        }

        long produced = 0;
        try
        {
            // Full throughput: rounds back to back, each one Insert into every pchannel and a tick, timed to the
            // target's acknowledgement of its last Insert.
            var fullBytes = 0L;
            var fullTime = TimeSpan.Zero;
            for (var round = 0; round < WarmUpRounds + FullSpeedRounds; round++)
            {
                var bytesBefore = pipeline.InsertBytesAcknowledged;
                var started = Stopwatch.GetTimestamp();
                produced += await InsertIntoEveryChannelAsync(tick: true);
                var target = produced;
                if (!await PipelineHarness.WaitAsync(() => pipeline.InsertsAcknowledged >= target, run, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(1)))
                {
                    throw new InvalidOperationException($"round {round} was not acknowledged within 60 s");
                }

                if (round >= WarmUpRounds)
                {
                    fullTime += Stopwatch.GetElapsedTime(started);
                    fullBytes += pipeline.InsertBytesAcknowledged - bytesBefore;
                }
            }

            var fullMBps = fullBytes / 1e6 / fullTime.TotalSeconds;
            Console.WriteLine($"full throughput: {fullMBps:F0} MB/s ({fullBytes / 1e6:F0} MB in {fullTime.TotalSeconds:F2} s)");

            // The steady stream, with ticks, for the rest of the run.
            using var streaming = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var stream = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(StreamInterval);
                do
                {
                    Interlocked.Add(ref produced, await InsertIntoEveryChannelAsync(tick: false));
                }
                while (await timer.WaitForNextTickAsync(streaming.Token));
            }, streaming.Token);
            var ticks = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TickInterval);
                while (await timer.WaitForNextTickAsync(streaming.Token))
                {
                    await pipeline.Stream.TickAsync(streaming.Token);
                }
            }, streaming.Token);

            await Task.Delay(TimeSpan.FromSeconds(6), ct);
            var steadyBefore = Interlocked.Read(ref produced);
            if (!await PipelineHarness.WaitAsync(() => pipeline.InsertsAcknowledged >= steadyBefore, run, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(5)))
            {
                throw new InvalidOperationException("the steady stream was not keeping up before the outage");
            }

            await pipeline.Target.StopListeningAsync();
            var down = Stopwatch.GetTimestamp();
            Console.WriteLine("target down");
            await Task.Delay(Outage, ct);
            var backlogInserts = Interlocked.Read(ref produced) - pipeline.InsertsAcknowledged;
            var bytesAtRecovery = pipeline.InsertBytesAcknowledged;
            var ackedAtRecovery = pipeline.InsertsAcknowledged;
            await pipeline.Target.StartListeningAsync(ct);
            var back = Stopwatch.GetTimestamp();
            var backlogTarget = Interlocked.Read(ref produced);
            Console.WriteLine($"target back after {Stopwatch.GetElapsedTime(down).TotalSeconds:F1} s, {backlogInserts} Inserts waiting");

            // The first acknowledgement after the target came back (the retry's wait), then the backlog drained: every
            // Insert written up to the recovery acknowledged.
            await PipelineHarness.WaitAsync(() => pipeline.InsertsAcknowledged > ackedAtRecovery, run, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(1));
            var firstAck = Stopwatch.GetTimestamp();
            var bytesAtFirstAck = pipeline.InsertBytesAcknowledged;
            if (!await PipelineHarness.WaitAsync(() => pipeline.InsertsAcknowledged >= backlogTarget, run, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(1)))
            {
                throw new InvalidOperationException("the backlog did not drain within 120 s");
            }

            var drained = Stopwatch.GetTimestamp();
            var drainBytes = pipeline.InsertBytesAcknowledged - bytesAtRecovery;
            // The rate from the first acknowledgement on; the bytes that first call carried are counted as well, so
            // the rate over (first ack, drained] leaves them out.
            var drainTime = Stopwatch.GetElapsedTime(firstAck, drained);
            var drainMBps = (pipeline.InsertBytesAcknowledged - bytesAtFirstAck) / 1e6 / Math.Max(drainTime.TotalSeconds, 1e-3);
            var waitForRetry = Stopwatch.GetElapsedTime(back, firstAck);
            var toDrain = Stopwatch.GetElapsedTime(back, drained);
            Console.WriteLine($"drained {drainBytes / 1e6:F0} MB: {toDrain.TotalSeconds:F2} s after the target came back ({waitForRetry.TotalSeconds:F2} s until the first write), {drainMBps:F0} MB/s");

            await streaming.CancelAsync();
            await Task.WhenAll(stream, ticks).ContinueWith(_ => { }, TaskScheduler.Default);

            var now = context.TimeProvider.GetUtcNow();
            var ratio = drainMBps / fullMBps;
            var text = new StringBuilder()
                .AppendLine("# catch-up after a target outage")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"One task, one collection with {Shards} shards on {Shards} pchannels (a 2.4 source; Kafka mock, reader fetch.wait.max.ms 10). Inserts of")
                .AppendLine(CultureInfo.InvariantCulture, $"{Rows} rows x {Dimension}-dim float vectors + int64 pk. Full throughput: {FullSpeedRounds} rounds (after {WarmUpRounds} for warm-up), each one Insert into every")
                .AppendLine("pchannel and a tick, written and acknowledged back to back. Then a steady stream (one Insert into every pchannel every")
                .AppendLine(CultureInfo.InvariantCulture, $"{StreamInterval.TotalSeconds:0} s, a tick every {TickInterval.TotalMilliseconds:0} ms), the fake target off the network for {Outage.TotalSeconds:0} s (connections closed, new ones refused)")
                .AppendLine("and back on its port. The server's own retry policy (first retry after 200 ms, doubling up to 10 s) decides when it tries again.")
                .AppendLine()
                .AppendLine("| date (UTC) | machine cores | full throughput MB/s | backlog MB | back to first write s | back to drained s | drain MB/s | drain / full | goal |")
                .AppendLine("|---|---|---|---|---|---|---|---|---|")
                .AppendLine(CultureInfo.InvariantCulture,
                    $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {fullMBps:F0} | {drainBytes / 1e6:F0} | {waitForRetry.TotalSeconds:F2} | {toDrain.TotalSeconds:F2} | {drainMBps:F0} | {ratio:P0} | >= {Goal:P0}: {(ratio >= Goal ? "**met**" : "**not met**")} |")
                .AppendLine()
                .AppendLine("Backlog: the Insert bytes acknowledged from the target's return until every Insert written before it was acknowledged.")
                .AppendLine("Drain MB/s: the bytes acknowledged after the first write following the return, over the time from that write to the")
                .AppendLine("last Insert of the backlog; the wait before the first write is the retry policy's, shown apart. MB: 10^6 bytes of")
                .AppendLine("msgstream Insert messages. Producer, engine and fake target share this process; the fake target neither parses nor keeps")
                .AppendLine("the rows.")
                .AppendLine()
                .AppendLine(BenchmarkContext.MachineNote(loadBefore))
                .ToString();
            Console.WriteLine(text);
            await ThroughputBenchmark.WriteAsync(context, "drain.md", text);
        }
        finally
        {
            if (!pipeline.Target.IsListening)
            {
                await pipeline.Target.StartListeningAsync(CancellationToken.None);
            }

            await PipelineHarness.StopAsync(run, stop);
        }
    }
}
