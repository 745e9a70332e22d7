using System.Globalization;
using System.Text;
using Cdc.Application.Replication.Source;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Testing.FakePulsar;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Bench;

/// <summary>
/// The same comparison with a Pulsar source: the rounds go into a fake Pulsar broker (over the binary protocol, each
/// message a ZSTD batch of one, as Milvus 2.3-2.5 writes), the engine reads them with the server's Pulsar reader, and
/// the plain side is that reader alone, one per pchannel, counting messages.
/// </summary>
public static partial class ThroughputBenchmark
{
    /// <summary>Bytes a topic of the fake broker keeps (its retention): a few rounds, so memory stays bounded.</summary>
    private const long PulsarRetentionBytes = 16L * 1024 * 1024;

    public static async Task RunPulsarAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(12));
        var now = context.TimeProvider.GetUtcNow();
        var broker = FakePulsarBroker.Start(cluster: new FakePulsarCluster { RetentionBytesPerTopic = PulsarRetentionBytes });
        var options = new PulsarSourceOptions
        {
            ServiceUrl = broker.ServiceUrl,
            Tenant = PulsarTestSource.Tenant,
            Namespace = PulsarTestSource.Namespace,
        };
        await using var pipeline = await PipelineHarness.StartAsync("pulsar-throughput", Dimension, Shards, applyRows: false, null,
            deadline.Token, targetInOwnProcess: true, queue: SourceQueue.Pulsar(broker, ownsBroker: true));
        var result = await CompareAsync(pipeline, new PulsarSourceChannels(options),
            source => new PulsarRawReaders(source.Collection.PhysicalChannels, new PulsarSourceChannels(options)), Shards, deadline.Token);
        var (pipe, raw) = (result.Pipeline, result.Raw);
        var ratios = Enumerable.Range(0, Blocks).Select(b => pipe.MBps(b) / raw.MBps(b)).ToList();
        Console.WriteLine($"pulsar: raw {raw.MBps():F0} MB/s, pipeline {pipe.MBps():F0} MB/s ({pipe.MBps() / raw.MBps():P0})");

        var text = new StringBuilder()
            .AppendLine("# replication throughput, Pulsar source")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"As bench/results/throughput.md, with the source in a fake Pulsar broker (tests/Cdc.Testing/FakePulsar, the binary protocol on")
            .AppendLine(CultureInfo.InvariantCulture, $"loopback): a round writes one Insert of {Rows:N0} rows x {Dimension}-dim float vectors + int64 pk into each of {Shards} pchannels, then a")
            .AppendLine(CultureInfo.InvariantCulture, $"TimeTick on each (a 2.4 source), each message a ZSTD-compressed batch of one with the msgstream properties inside, as")
            .AppendLine("Milvus 2.3-2.5 (pulsar-client-go v0.6.10) writes. The sides take turns in blocks of " + RoundsPerBlock.ToString(CultureInfo.InvariantCulture) + " measured rounds after")
            .AppendLine(CultureInfo.InvariantCulture, $"warm-up pairs of blocks until the JIT is quiet, {Blocks} measured pairs ({Blocks * RoundsPerBlock * Shards * Rows:N0} rows a side). The fake target runs")
            .AppendLine("in a process of its own (Grpc.AspNetCore on Kestrel); its CPU is the last column, apart from the pipeline's.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | .NET | MB per side | raw rows/s | raw MB/s | pipeline rows/s | pipeline MB/s | pipeline / raw | per block pair | target | pipeline CPU (cores) | raw CPU (cores) | fake target CPU (cores) |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            .AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {Environment.Version} | {pipe.Bytes / 1e6:F0} | {raw.RowsPerSecond:N0} | {raw.MBps():F0} | {pipe.RowsPerSecond:N0} | {pipe.MBps():F0} | {pipe.MBps() / raw.MBps():P0} | {ratios.Min():P0}-{ratios.Max():P0} | >= 70% | {pipe.Cores:F2} | {raw.Cores:F2} | {pipe.TargetCores:F2} |")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- warm-up: {result.WarmUpPairs} pairs of blocks{(result.JitQuiet ? "" : " (the JIT was still busy after the last: the figures include start-up cost)")}; JIT time in the measured rounds: pipeline {pipe.Jit.TotalMilliseconds:F0} ms, raw {raw.Jit.TotalMilliseconds:F0} ms.")
            .AppendLine(CultureInfo.InvariantCulture, $"- per round, by block: pipeline {Join(pipe)}; raw {Join(raw)} ms.")
            .AppendLine(CultureInfo.InvariantCulture, $"- process CPU in the measured rounds: pipeline {pipe.CpuSeconds:F2} s, raw {raw.CpuSeconds:F2} s (both with the producer and the fake broker).")
            .AppendLine(CultureInfo.InvariantCulture, $"- garbage collection in the measured rounds: pipeline {pipe.GcPause.TotalMilliseconds:F0} ms paused, {pipe.Gen2} gen-2 collections; raw {raw.GcPause.TotalMilliseconds:F0} ms, {raw.Gen2}.")
            .AppendLine(CultureInfo.InvariantCulture, $"- checkpoints while the engine ran (warm-up included): {result.CheckpointWrites} event store appends/trims, {result.CheckpointTime.TotalMilliseconds:F0} ms in all.")
            .AppendLine()
            .AppendLine("Pipeline: the engine (server options, PulsarSourceOptions defaults) replicates the task's source into the fake target; a")
            .AppendLine("round is timed from its first write to the target's acknowledgement of its last Insert. Raw: no independent .NET Pulsar")
            .AppendLine("client is available here, so the plain side is the server's own Pulsar reader (PulsarSourceChannels: lookup, flow permits,")
            .AppendLine("CRC-32C, ZSTD decompression, batch unpacking), one per pchannel of a second source of the same layout that no task")
            .AppendLine("replicates, counting messages: the ratio is what the engine (msgstream decoding, packing, rewriting, gRPC writes,")
            .AppendLine("checkpoints) costs on top of reading Pulsar, not the reader's own cost. MB/s: bytes of the msgstream message values written")
            .AppendLine("in the measured rounds (Inserts and ticks, 10^6 bytes, before compression) over the sum of their times.")
            .AppendLine()
            .AppendLine("Everything but etcd, PostgreSQL and the fake target shares this process and the machine's cores: the producer (which compresses each")
            .AppendLine(CultureInfo.InvariantCulture, $"message with ZSTD and waits for its receipt, one topic at a time), the fake broker (in-memory topics keeping {PulsarRetentionBytes / (1024 * 1024)} MiB each),")
            .AppendLine("and the engine; a real deployment has the broker and the target on other machines. A brief run, not a")
            .AppendLine("tuned one: the figures are pessimistic and noisy.")
            .AppendLine()
            .AppendLine(BenchmarkContext.MachineNote(loadBefore))
            .ToString();
        Console.WriteLine(text);
        await WriteAsync(context, "pulsar-throughput.md", text);
    }

    /// <summary>
    /// Live readers of a Pulsar source: the server's reader on each pchannel from its current end, each drained by a
    /// task of its own, counting messages; nothing decoded, nothing written.
    /// </summary>
    private sealed class PulsarRawReaders : IRoundReader
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<ISourceChannelReader> _readers = [];
        private long _messages;

        /// <summary>Subscribes on every pchannel before it returns (as the Kafka side's readers), so nothing written afterwards is missed.</summary>
        public PulsarRawReaders(IEnumerable<string> pchannels, ISourceChannels channels)
        {
            foreach (var pchannel in pchannels.Distinct())
            {
                _readers.Add(channels.OpenReaderAsync(pchannel, SourceChannelStart.Latest, _stop.Token).GetAwaiter().GetResult());
            }

            Running = Task.WhenAll(_readers.Select(r => Task.Run(() => DrainAsync(r))));
        }

        public long Messages => Interlocked.Read(ref _messages);

        public Task Running { get; }

        private async Task DrainAsync(ISourceChannelReader reader)
        {
            try
            {
                await foreach (var _ in reader.ReadAllAsync(_stop.Token))
                {
                    Interlocked.Increment(ref _messages);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Running.WaitAsync(TimeSpan.FromSeconds(10));
            foreach (var reader in _readers)
            {
                await reader.DisposeAsync();
            }

            _stop.Dispose();
        }
    }
}
