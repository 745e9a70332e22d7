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
/// round writes one Insert into each of 16 pchannels (the collection has 16 shards, Milvus' maximum) and a tick on
/// each, in one Kafka transaction, so that it becomes visible to every reader at the same instant (the commit); the
/// pipeline's time for a round runs from that commit to the target's acknowledgement of the round's last Insert. Then
/// the raw consumer reads the same round (still held by the broker) from its first offsets to its last message.
/// </remarks>
public static class ThroughputBenchmark
{
    internal const int Rows = 1_000;
    internal const int Dimension = 768;
    internal const int Shards = 16;
    private const int Rounds = 8;

    public static async Task RunAsync(BenchmarkContext context)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await using var pipeline = await PipelineHarness.StartAsync("throughput", Dimension, Shards, transactional: true, applyRows: false, null, deadline.Token);
        var result = await RunRoundsAsync(pipeline, Rounds, measureRaw: true, deadline.Token);

        var rows = (long)Rounds * Shards * Rows;
        var rawMbps = result.Bytes / result.Raw.TotalSeconds / 1e6;
        var pipeMbps = result.Bytes / result.Pipeline.TotalSeconds / 1e6;
        var now = context.TimeProvider.GetUtcNow();
        var table = new StringBuilder()
            .AppendLine("# replication throughput")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Source: {Rounds} rounds x {Shards} pchannels, each round one Insert of {Rows:N0} rows x {Dimension}-dim float vectors + int64 pk per pchannel and a TimeTick")
            .AppendLine(CultureInfo.InvariantCulture, $"on each (a 2.4 source), committed in one Kafka transaction: {rows:N0} rows, {result.Bytes / 1e6:F0} MB of message values (Kafka mock, librdkafka {Library.VersionString}).")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | .NET | raw consumer rows/s | raw MB/s | pipeline rows/s | pipeline MB/s | pipeline / raw | target |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|")
            .AppendLine(CultureInfo.InvariantCulture, $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {Environment.Version} | {rows / result.Raw.TotalSeconds:N0} | {rawMbps:F0} | {rows / result.Pipeline.TotalSeconds:N0} | {pipeMbps:F0} | {pipeMbps / rawMbps:P0} | >= 70% |")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Pipeline: {result.Pipeline.TotalSeconds:F2} s in all, summed over the rounds, each from the transaction's commit to the fake target's acknowledgement")
            .AppendLine(CultureInfo.InvariantCulture, $"of the round's last Insert (per round: {string.Join(", ", result.PipelineRounds.Select(r => r.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)))} ms). The engine runs throughout (started, and warmed up by one")
            .AppendLine(CultureInfo.InvariantCulture, $"round not counted, before the first measured round), with the server's options. Process CPU in those intervals: {result.PipelineCpuSeconds:F1} s")
            .AppendLine(CultureInfo.InvariantCulture, $"over {result.Pipeline.TotalSeconds:F1} s ({result.PipelineCpuSeconds / result.Pipeline.TotalSeconds:F2} of {Environment.ProcessorCount} cores), fake target included.")
            .AppendLine(CultureInfo.InvariantCulture, $"Raw consumer: {result.Raw.TotalSeconds:F2} s in all (per round: {string.Join(", ", result.RawRounds.Select(r => r.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)))} ms): one Confluent.Kafka")
            .AppendLine(CultureInfo.InvariantCulture, $"{typeof(IConsumer<,>).Assembly.GetName().Version} consumer, created once, with the CDC reader's settings (KafkaSourceOptions.ToConsumerConfig), assigned the {Shards} partitions at the")
            .AppendLine("round's first offsets, timed from the assignment to the round's last message. It only reads: no decode, no write.")
            .AppendLine()
            .AppendLine("What is measured: MB = 10^6 bytes of message values (Inserts and ticks) / wall time; rows = inserted rows. The pipeline and the")
            .AppendLine("fake target (Kestrel, real gRPC over HTTP/2 on loopback) share this process; the fake checks each message's header and advances")
            .AppendLine("its channel position but neither parses nor keeps the rows (a real Milvus would). PostgreSQL (checkpoints), etcd and the Kafka")
            .AppendLine("mock are separate processes on the same machine. The producer is idle while a round is timed. Why rounds: the mock keeps at")
            .AppendLine("most 5 MiB per partition, so a round of one ~3 MB Insert per pchannel is the deepest backlog it can hold; a real broker with a")
            .AppendLine("deep backlog would let both readers fetch ahead across rounds, which these figures do not show.")
            .ToString();

        Console.WriteLine(table);
        await WriteAsync(context, "throughput.md", table);
    }

    /// <summary>Writes a results file and says where.</summary>
    internal static async Task WriteAsync(BenchmarkContext context, string file, string text)
    {
        Directory.CreateDirectory(context.ResultsDirectory);
        var path = Path.Combine(context.ResultsDirectory, file);
        await File.WriteAllTextAsync(path, text);
        Console.WriteLine($"written to {path}");
    }

    /// <summary>What <see cref="RunRoundsAsync"/> measured, over the counted rounds.</summary>
    internal sealed record RoundsResult(
        long Bytes, TimeSpan Pipeline, double PipelineCpuSeconds, TimeSpan Raw,
        IReadOnlyList<TimeSpan> PipelineRounds, IReadOnlyList<TimeSpan> RawRounds);

    /// <summary>
    /// Starts the engine, runs one warm-up round and <paramref name="rounds"/> measured ones (see the remarks on
    /// <see cref="ThroughputBenchmark"/>), and stops the engine.
    /// </summary>
    internal static async Task<RoundsResult> RunRoundsAsync(PipelineHarness pipeline, int rounds, bool measureRaw, CancellationToken ct)
    {
        var vectors = PipelineHarness.Vectors(Rows, Dimension);
        KafkaNativeLibrary.EnsureInstalled();
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(
            new KafkaSourceOptions { Address = PipelineHarness.KafkaBootstrap }.ToConsumerConfig()).Build();
        var (run, stop) = pipeline.StartEngine();
        var pipelineRounds = new List<TimeSpan>();
        var rawRounds = new List<TimeSpan>();
        var cpu = TimeSpan.Zero;
        var bytes = 0L;
        var nextKey = 0L;
        try
        {
            for (var round = -1; round < rounds; round++)
            {
                var starts = await ProduceRoundAsync(pipeline, vectors, nextKey, ct);
                nextKey += (long)Shards * Rows;
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                var expected = (round + 2L) * Shards;
                var limit = round < 0 ? TimeSpan.FromMinutes(1) : TimeSpan.FromSeconds(30);
                if (!await PipelineHarness.WaitAsync(() => pipeline.InsertsAcknowledged >= expected, run, limit, TimeSpan.FromMilliseconds(1)))
                {
                    throw new TimeoutException($"round {round}: {pipeline.InsertsAcknowledged} of {expected} Inserts reached the target within {limit.TotalSeconds} s");
                }

                watch.Stop();
                if (round < 0)
                {
                    continue; // warm-up: engine start-up, collection creation on the target, JIT
                }

                cpu += Process.GetCurrentProcess().TotalProcessorTime - cpu0;
                pipelineRounds.Add(watch.Elapsed);
                var (roundBytes, rawTime) = RawRead(consumer, starts);
                bytes += roundBytes;
                if (measureRaw)
                {
                    rawRounds.Add(rawTime);
                }
            }
        }
        finally
        {
            await PipelineHarness.StopAsync(run, stop);
        }

        return new RoundsResult(bytes, Sum(pipelineRounds), cpu.TotalSeconds, Sum(rawRounds), pipelineRounds, rawRounds);
    }

    /// <summary>One Insert per pchannel and a tick on each, in one committed transaction; returns each pchannel's first offset.</summary>
    private static async Task<Dictionary<string, long>> ProduceRoundAsync(
        PipelineHarness pipeline, IReadOnlyList<float[]> vectors, long firstKey, CancellationToken ct)
    {
        var collection = pipeline.Collection;
        var starts = new Dictionary<string, long>(StringComparer.Ordinal);
        pipeline.Producer.BeginTransaction();
        for (var shard = 0; shard < collection.VirtualChannels.Count; shard++)
        {
            var keys = Enumerable.Range(0, Rows).Select(i => firstKey + (shard * Rows) + i).ToArray();
            var written = await pipeline.Stream.InsertAsync(collection.VirtualChannels[shard], collection.Id, collection.Partitions[0].Id, keys, vectors, ct,
                collectionName: PipelineHarness.CollectionName);
            starts[written.Channel] = written.Offset;
        }

        await pipeline.Stream.TickAsync(ct);
        pipeline.Producer.CommitTransaction();
        return starts;
    }

    /// <summary>Reads the round's two messages (Insert, tick) on each partition; returns their value bytes and the time taken.</summary>
    private static (long Bytes, TimeSpan Elapsed) RawRead(IConsumer<Ignore, byte[]> consumer, IReadOnlyDictionary<string, long> starts)
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

    private static TimeSpan Sum(IEnumerable<TimeSpan> spans) => spans.Aggregate(TimeSpan.Zero, (a, b) => a + b);
}
