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
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var now = context.TimeProvider.GetUtcNow();
        var rows = (long)Rounds * Shards * Rows;
        var table = new StringBuilder()
            .AppendLine("# replication throughput")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Source: {Rounds} rounds x {Shards} pchannels, each round one Insert of {Rows:N0} rows x {Dimension}-dim float vectors + int64 pk per pchannel and a TimeTick")
            .AppendLine(CultureInfo.InvariantCulture, $"on each (a 2.4 source), committed in one Kafka transaction: {rows:N0} rows (Kafka mock, librdkafka {Library.VersionString}).")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | .NET | fetch.wait.max.ms | MB | raw consumer rows/s | raw MB/s | pipeline rows/s | pipeline MB/s | pipeline / raw | target | pipeline CPU (cores) |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        var details = new StringBuilder();
        foreach (var fetchWait in new string?[] { null, "10" })
        {
            var kafka = new KafkaSourceOptions
            {
                Address = PipelineHarness.KafkaBootstrap,
                Consumer = fetchWait is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["fetch.wait.max.ms"] = fetchWait },
            };
            await using var pipeline = await PipelineHarness.StartAsync("throughput", Dimension, Shards, transactional: true, applyRows: false, null, deadline.Token);
            var result = await RunRoundsAsync(pipeline, Rounds, kafka, deadline.Token);
            var rawMbps = result.Bytes / result.Raw.TotalSeconds / 1e6;
            var pipeMbps = result.Bytes / result.Pipeline.TotalSeconds / 1e6;
            var wait = fetchWait ?? "500 (default)";
            Console.WriteLine($"fetch.wait.max.ms {wait}: raw {rawMbps:F0} MB/s, pipeline {pipeMbps:F0} MB/s");
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {Environment.Version} | {wait} | {result.Bytes / 1e6:F0} | {rows / result.Raw.TotalSeconds:N0} | {rawMbps:F0} | {rows / result.Pipeline.TotalSeconds:N0} | {pipeMbps:F0} | {pipeMbps / rawMbps:P0} | >= 70% | {result.PipelineCpuSeconds / result.Pipeline.TotalSeconds:F2} |");
            details
                .AppendLine(CultureInfo.InvariantCulture, $"fetch.wait.max.ms {wait}: pipeline per round {Join(result.PipelineRounds)} ms; raw consumer per round {Join(result.RawRounds)} ms.");
        }

        table
            .AppendLine()
            .Append(details)
            .AppendLine()
            .AppendLine("Pipeline: summed over the rounds, each from the transaction's commit to the fake target's acknowledgement of the round's last")
            .AppendLine("Insert. The engine runs throughout (started, and warmed up by one round not counted, before the first measured round), with")
            .AppendLine("the server's options; the CPU column is the process's CPU time in those intervals / their wall time (fake target included).")
            .AppendLine(CultureInfo.InvariantCulture, $"Raw consumer: one Confluent.Kafka {typeof(IConsumer<,>).Assembly.GetName().Version} consumer, created once, with the CDC reader's settings")
            .AppendLine(CultureInfo.InvariantCulture, $"(KafkaSourceOptions.ToConsumerConfig, the same fetch.wait.max.ms), assigned the {Shards} partitions at the round's first offsets after")
            .AppendLine("the pipeline finished it, timed from the assignment to the round's last message. It only reads: no decode, no write.")
            .AppendLine()
            .AppendLine("What is measured: MB = 10^6 bytes of message values (Inserts and ticks) / wall time; rows = inserted rows. The pipeline and the")
            .AppendLine("fake target (Kestrel, real gRPC over HTTP/2 on loopback) share this process; the fake checks each message's header and advances")
            .AppendLine("its channel position but neither parses nor keeps the rows (a real Milvus would). PostgreSQL (checkpoints), etcd and the Kafka")
            .AppendLine("mock are separate processes on the same machine. The producer is idle while a round is timed.")
            .AppendLine()
            .AppendLine("Why rounds: the mock keeps at most 5 MiB per partition, so a round of one ~3 MB Insert per pchannel is the deepest backlog it")
            .AppendLine("can hold; against a real broker with a deep backlog both readers would fetch ahead across rounds, which these figures do not")
            .AppendLine("show. Why two fetch waits: the mock holds a fetch that finds no data for the whole fetch.wait.max.ms (500 ms by default) even")
            .AppendLine("when data arrives meanwhile, where a real broker answers at once. The engine's readers are idle in such a fetch when a round")
            .AppendLine("is committed, the raw consumer starts a new fetch; 10 ms removes most of that artefact of the mock.");
        var text = table.ToString();
        Console.WriteLine(text);
        await WriteAsync(context, "throughput.md", text);
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
    internal sealed record RoundsResult(
        long Bytes, TimeSpan Pipeline, double PipelineCpuSeconds, TimeSpan Raw,
        IReadOnlyList<TimeSpan> PipelineRounds, IReadOnlyList<TimeSpan> RawRounds);

    /// <summary>
    /// Runs one warm-up round and <paramref name="rounds"/> measured ones through the engine (see the remarks on
    /// <see cref="ThroughputBenchmark"/>), stops it, then (when <paramref name="measureRaw"/>) as many rounds through
    /// the raw consumers.
    /// </summary>
    /// <param name="kafka">The engine's Kafka settings; the raw consumers use the same consumer config.</param>
    /// <param name="measureRaw">Whether the raw consumers run too; without them the bytes are those the target acknowledged.</param>
    internal static async Task<RoundsResult> RunRoundsAsync(
        PipelineHarness pipeline, int rounds, KafkaSourceOptions kafka, CancellationToken ct, bool measureRaw = true)
    {
        var vectors = PipelineHarness.Vectors(Rows, Dimension);
        var (run, stop) = pipeline.StartEngine(kafka);
        List<TimeSpan> pipelineRounds;
        var cpu = TimeSpan.Zero;
        try
        {
            pipelineRounds = await TimeRoundsAsync(pipeline, vectors, rounds, () => pipeline.InsertsAcknowledged, Shards, run, 0, ct,
                (_, _, cpuTime) => cpu += cpuTime);
        }
        finally
        {
            await PipelineHarness.StopAsync(run, stop);
        }

        if (!measureRaw)
        {
            return new RoundsResult(pipeline.InsertBytesAcknowledged, Sum(pipelineRounds), cpu.TotalSeconds, TimeSpan.Zero, pipelineRounds, []);
        }

        using var raw = new RawReaders(pipeline.Collection.PhysicalChannels, kafka);
        var rawRounds = await TimeRoundsAsync(pipeline, vectors, rounds, () => raw.Messages, 2 * Shards, raw.Reading, (rounds + 1L) * Shards * Rows, ct, null);
        var bytes = raw.Bytes * rounds / (rounds + 1); // the warm-up round is not counted; every round has the same bytes
        return new RoundsResult(bytes, Sum(pipelineRounds), cpu.TotalSeconds, Sum(rawRounds), pipelineRounds, rawRounds);
    }

    /// <summary>Produces a warm-up round and <paramref name="rounds"/> timed ones, each until <paramref name="count"/> grew by <paramref name="perRound"/>.</summary>
    private static async Task<List<TimeSpan>> TimeRoundsAsync(
        PipelineHarness pipeline, IReadOnlyList<float[]> vectors, int rounds, Func<long> count, int perRound, Task running,
        long firstKey, CancellationToken ct, Action<int, TimeSpan, TimeSpan>? measured)
    {
        var times = new List<TimeSpan>();
        var baseline = count();
        for (var round = -1; round < rounds; round++)
        {
            await ProduceRoundAsync(pipeline, vectors, firstKey + ((round + 1L) * Shards * Rows), ct);
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var expected = baseline + ((round + 2L) * perRound);
            var limit = round < 0 ? TimeSpan.FromMinutes(1) : TimeSpan.FromSeconds(30);
            if (!await PipelineHarness.WaitAsync(() => count() >= expected, running, limit, TimeSpan.FromMilliseconds(1)))
            {
                throw new TimeoutException($"round {round}: {count() - baseline} of {expected - baseline} messages arrived within {limit.TotalSeconds} s");
            }

            watch.Stop();
            if (round >= 0)
            {
                // The warm-up round (engine start-up, collection creation on the target, JIT) is not counted.
                times.Add(watch.Elapsed);
                measured?.Invoke(round, watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu0);
            }
        }

        return times;
    }

    /// <summary>One Insert per pchannel and a tick on each, in one committed transaction.</summary>
    private static async Task ProduceRoundAsync(
        PipelineHarness pipeline, IReadOnlyList<float[]> vectors, long firstKey, CancellationToken ct)
    {
        var collection = pipeline.Collection;
        pipeline.Producer.BeginTransaction();
        for (var shard = 0; shard < collection.VirtualChannels.Count; shard++)
        {
            var keys = Enumerable.Range(0, Rows).Select(i => firstKey + (shard * Rows) + i).ToArray();
            await pipeline.Stream.InsertAsync(collection.VirtualChannels[shard], collection.Id, collection.Partitions[0].Id, keys, vectors, ct,
                collectionName: PipelineHarness.CollectionName);
        }

        await pipeline.Stream.TickAsync(ct);
        pipeline.Producer.CommitTransaction();
    }

    /// <summary>
    /// The physical limit of the source side: one plain consumer per pchannel, as the engine has, each on a thread of
    /// its own reading from the current end, counting messages and value bytes; nothing decoded, nothing written.
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
