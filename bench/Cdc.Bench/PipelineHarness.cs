using Cdc.Application.EventStore;
using Cdc.Application.Replication.Running;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Secrets;
using Cdc.Infrastructure.Source.Etcd;
using Cdc.Infrastructure.Source.Kafka;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Infrastructure.Target;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.SourceSimulator;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Bench;

/// <summary>
/// One task's whole replication, wired as the server wires it (production options): a simulated source (collection
/// metadata in the etcd, msgstream messages in the Kafka mock that scripts/bench.sh started, or in a fake Pulsar
/// broker), the
/// <see cref="TaskReplication"/> with its checkpoints in a fresh PostgreSQL event store, and the fake target
/// Milvus over real gRPC (HTTP/2 on loopback). Everything but etcd, Kafka and PostgreSQL runs in this process, the fake
/// target too unless asked to run in a process of its own.
/// The fake target keeps no calls and, unless asked, applies no rows: it checks each message's header and advances
/// its channel position, so what is measured is the CDC, not the fake.
/// </summary>
public sealed class PipelineHarness : IAsyncDisposable
{
    /// <summary>The collection replicated: int64 primary key "pk" and a float vector "vec" (the names the simulator's Inserts give their columns).</summary>
    public const string CollectionName = "bench";

    private const string TaskId = "bench-task";

    private readonly EventStoreHarness _store;
    private readonly EtcdClient _etcd;
    private readonly SourceQueue _queue;
    private readonly TargetCounter _counter;
    private readonly string _name;
    private readonly int _dimension;
    private readonly int _shards;
    private readonly ApplyMode _applyMode;

    private PipelineHarness(
        EventStoreHarness store, EtcdClient etcd, SourceQueue queue, FakeMilvusServer? target, FakeTargetProcess? targetProcess,
        TargetCounter counter, SimulatedSource source, string replicateChannel, string name, int dimension, int shards, ApplyMode applyMode)
    {
        _target = target;
        TargetProcess = targetProcess;
        _applyMode = applyMode;
        _store = store;
        _etcd = etcd;
        _queue = queue;
        _counter = counter;
        _name = name;
        _dimension = dimension;
        _shards = shards;
        Source = source;
        ReplicateChannel = replicateChannel;
    }

    private readonly FakeMilvusServer? _target;

    /// <summary>The fake target, when it runs in this process.</summary>
    public FakeMilvusServer Target => _target ?? throw new InvalidOperationException("the fake target runs in a process of its own");

    /// <summary>The fake target, when it runs in a process of its own.</summary>
    public FakeTargetProcess? TargetProcess { get; }

    private Uri TargetUri => _target?.Uri ?? TargetProcess!.Uri;

    /// <summary>The source the task replicates.</summary>
    public SimulatedSource Source { get; }

    public SourceMetaSimulator Meta => Source.Meta;

    public SourceStreamSimulator Stream => Source.Stream;

    /// <summary>The source collection: one shard per pchannel of the source.</summary>
    public SimulatedCollection Collection => Source.Collection;

    public string ReplicateChannel { get; }

    /// <summary>The engine's event store (checkpoints), timed.</summary>
    public TimedEventStore EventStore { get; private set; } = null!;

    /// <summary>Inserts the target acknowledged so far (in ReplicateMessage calls, or as Upsert calls in apply mode upsert).</summary>
    public long InsertsAcknowledged => TargetProcess?.Inserts ?? _counter.Inserts;

    /// <summary>Bytes of the Insert messages the target acknowledged so far (the msgstream payloads).</summary>
    public long InsertBytesAcknowledged => TargetProcess?.InsertBytes ?? _counter.InsertBytes;

    /// <summary>Time ticks the target acknowledged so far.</summary>
    public long TicksAcknowledged => TargetProcess?.Ticks ?? _counter.Ticks;

    /// <summary>
    /// Writes source ticks until the target acknowledged a tick per pchannel after the call: the run then reads every
    /// channel, from its checkpoint or start, so nothing written from now on is missed.
    /// </summary>
    public async Task WaitUntilReadingAsync(Task run, CancellationToken cancellationToken)
    {
        if (_applyMode == ApplyMode.Upsert)
        {
            // Apply mode upsert sends no ticks to observe: give the readers time to open (a missed race halts the run
            // with the lost offsets named, it does not skew the figures).
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            return;
        }

        var before = TicksAcknowledged;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (TicksAcknowledged < before + _shards)
        {
            if (run.IsCompleted)
            {
                await run;
                throw new InvalidOperationException("the replication ended before it was reading");
            }

            if (DateTime.UtcNow > until) throw new TimeoutException("the replication was not reading every channel within 60 s");
            await Stream.TickAsync(cancellationToken);
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Kafka mock bootstrap servers (CDC_TEST_KAFKA).</summary>
    public static string KafkaBootstrap => TestEnvironment.Require("CDC_TEST_KAFKA");

    /// <param name="name">Names the topics and etcd keys (a unique suffix is added).</param>
    /// <param name="dimension">The vector dimension of the collection.</param>
    /// <param name="shards">The source's DML channels (pchannels) and the collection's shards, one on each.</param>
    /// <param name="applyRows">Whether the fake target parses Inserts and keeps the rows (see <see cref="FakeMilvusOptions.ApplyRows"/>).</param>
    /// <param name="onInsertAcknowledged">Called for each Insert message in a ReplicateMessage the target acknowledged.</param>
    /// <param name="onTimeTickAcknowledged">Called with the timestamp of each CDC time tick the target acknowledged.</param>
    /// <param name="applyMode">The task's apply mode; in "upsert" the fake target is an ordinary Milvus (ttMsgEnabled on).</param>
    /// <param name="targetInOwnProcess">
    /// Whether the fake target runs in a process of its own (<see cref="FakeTargetProcess"/>: replicate mode, no rows
    /// applied, no callbacks), so its CPU time is not the pipeline's.
    /// </param>
    /// <param name="queue">Where the source writes (disposed with the harness); by default the Kafka mock.</param>
    public static async Task<PipelineHarness> StartAsync(
        string name, int dimension, int shards, bool applyRows, Action<ByteString>? onInsertAcknowledged,
        CancellationToken cancellationToken, Action<ulong>? onTimeTickAcknowledged = null, ApplyMode applyMode = ApplyMode.Replicate,
        bool targetInOwnProcess = false, SourceQueue? queue = null)
    {
        if (targetInOwnProcess && (applyRows || onInsertAcknowledged is not null || onTimeTickAcknowledged is not null || applyMode != ApplyMode.Replicate))
        {
            throw new ArgumentException("a fake target in a process of its own neither applies rows nor calls back, in replicate mode", nameof(targetInOwnProcess));
        }

        var suffix = Guid.NewGuid().ToString("N")[..12];
        var replicateChannel = $"cdc-bench-{name}-{suffix}-replicate-msg";

        var store = await EventStoreHarness.StartAsync();
        var counter = new TargetCounter(onInsertAcknowledged, onTimeTickAcknowledged);
        var targetProcess = targetInOwnProcess ? await FakeTargetProcess.StartAsync(cancellationToken) : null;
        var target = targetInOwnProcess ? null : await FakeMilvusServer.StartAsync(new FakeMilvusOptions
        {
            RecordCalls = false,
            ApplyRows = applyRows,
            OnHandled = counter.OnHandled,
            TtMsgEnabled = applyMode == ApplyMode.Upsert,
        }, cancellationToken);
        var targetUri = target?.Uri ?? targetProcess!.Uri;
        var etcd = new EtcdClient(new EtcdOptions
        {
            Address = [TestEnvironment.Require("CDC_TEST_ETCD")],
            RequestTimeout = TimeSpan.FromSeconds(10),
        }, TimeProvider.System);
        queue ??= SourceQueue.Kafka(new KafkaTestProducer(KafkaBootstrap, messageMaxBytes: 16 * 1024 * 1024));
        var source = await CreateSourceAsync(etcd, queue.Writer, name, suffix, dimension, shards, replicateChannel, cancellationToken);
        await store.Store.AppendAsync(new StreamAppend(TaskId, StreamTypes.Task, 0,
            [new TaskCreated(TaskId, Definition(targetUri, applyMode), DateTimeOffset.UtcNow)]), cancellationToken);
        return new PipelineHarness(store, etcd, queue, target, targetProcess, counter, source, replicateChannel, name, dimension, shards, applyMode)
        {
            EventStore = new TimedEventStore(store.Store),
        };
    }

    /// <summary>
    /// A second source of the same layout (collection, shards, names of the same lengths, so messages of the same
    /// sizes) under an etcd root and pchannels of its own, which no task replicates: what plain consumers read for
    /// comparison, while the engine's channels stay quiet.
    /// </summary>
    public async Task<SimulatedSource> AddUnreplicatedSourceAsync(CancellationToken cancellationToken) =>
        await CreateSourceAsync(_etcd, _queue.Writer, _name, Guid.NewGuid().ToString("N")[..12], _dimension, _shards, ReplicateChannel, cancellationToken);

    /// <summary>
    /// Source metadata under its own etcd root and pchannels named after <paramref name="name"/> and
    /// <paramref name="suffix"/>, with the collection replicated here. The collection starts at a tick written before
    /// it (its start position), so an engine started with UseStartPosition reads every message written after the
    /// creation, whenever it starts.
    /// </summary>
    internal static async Task<SimulatedSource> CreateSourceAsync(
        EtcdClient etcd, ISourceQueueWriter producer, string name, string suffix, int dimension, int shards, string replicateChannel,
        CancellationToken cancellationToken)
    {
        var meta = new SourceMetaSimulator(etcd, new SourceMetaSimulatorOptions(
            RootPath: $"cdc-bench/{name}/{suffix}", ClusterPrefix: $"cdc-bench-{name}-{suffix}", DmlChannelNum: shards));
        var stream = new SourceStreamSimulator(producer, SourceMilvusVersion.V2_4, TimeProvider.System, replicateChannel);
        await meta.StartAsync(cancellationToken);
        foreach (var pchannel in meta.PhysicalChannels)
        {
            stream.AddPhysicalChannel(pchannel);
        }

        var before = (await stream.TickAsync(cancellationToken)).ToDictionary(m => m.Channel, m => m.Id);
        var collection = await meta.CreateCollectionAsync("default", CollectionName,
            new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vec", dimension), cancellationToken,
            shards: shards, startPosition: p => before[p]);
        return new SimulatedSource(meta, stream, collection);
    }

    /// <summary>
    /// Starts the task's replication from its checkpoints, or the collection's start position the first time, with the
    /// options the server uses
    /// (<see cref="TaskReplicationOptions.For"/>, and default Kafka reader settings).
    /// </summary>
    /// <param name="sendDmlAhead">Whether DML may go to the target ahead of its tick (the server's default).</param>
    public (Task Run, CancellationTokenSource Stop) StartEngine(KafkaSourceOptions? kafka = null, bool sendDmlAhead = true) =>
        StartEngine(new KafkaSourceChannels(kafka ?? new KafkaSourceOptions { Address = KafkaBootstrap }), sendDmlAhead);

    /// <summary>As <see cref="StartEngine(KafkaSourceOptions?, bool)"/>, reading the source through <paramref name="channels"/>.</summary>
    public (Task Run, CancellationTokenSource Stop) StartEngine(ISourceChannels channels, bool sendDmlAhead = true)
    {
        var engine = new TaskReplication(
            new EtcdSourceMetadata(_etcd, Meta.Layout),
            channels,
            new MsgStreamDecoder(), new SourceMessageIdEncoder(),
            new MilvusTargetFactory(), new DmlMessageRewriter(), new ControlMessageFactory(),
            new AesGcmSecretProtector(new byte[32]), EventStore, TimeProvider.System, NullLogger<TaskReplication>.Instance,
            TaskReplicationOptions.For(ReplicateChannel) with { SendDmlAhead = sendDmlAhead },
            upserts: new UpsertRewriter());
        // From the task's checkpoints, as the server resumes a task: a run stopped earlier left them (none the first time).
        var checkpoints = _store.Views.GetAsync(TaskId, CancellationToken.None).GetAwaiter().GetResult()?.Positions ?? [];
        var stop = new CancellationTokenSource();
        var run = engine.RunAsync(new TaskRunContext(TaskId, Definition(TargetUri, _applyMode), checkpoints), stop.Token);
        return (run, stop);
    }

    /// <summary>Waits for <paramref name="condition"/>, surfacing a halted run; false on timeout.</summary>
    public static async Task<bool> WaitAsync(Func<bool> condition, Task run, TimeSpan limit, TimeSpan poll)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (run.IsCompleted)
            {
                await run;
                throw new InvalidOperationException("the replication ended before the condition held");
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(poll);
        }

        return true;
    }

    /// <summary>Stops a run and waits for it to end (a cancellation is its normal end).</summary>
    public static async Task StopAsync(Task run, CancellationTokenSource stop)
    {
        await stop.CancelAsync();
        try
        {
            await run.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }

    /// <summary><paramref name="rows"/> random vectors of <paramref name="dimension"/> floats (seeded).</summary>
    public static IReadOnlyList<float[]> Vectors(int rows, int dimension, int seed = 42)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, dimension).Select(_ => (float)random.NextDouble()).ToArray())];
    }

    private static TaskDefinition Definition(Uri target, ApplyMode applyMode) => new(
        new MilvusTarget(target.ToString(), 5),
        new CollectionSelection([new CollectionInfo(CollectionName, UseStartPosition: true)], null),
        ApplyMode: applyMode);

    public async ValueTask DisposeAsync()
    {
        await _queue.DisposeAsync();
        _etcd.Dispose();
        if (_target is not null) await _target.DisposeAsync();
        if (TargetProcess is not null) await TargetProcess.DisposeAsync();
        await _store.DisposeAsync();
    }

    /// <summary>A simulated source: its metadata in etcd, its message stream in Kafka and the collection "bench" on it.</summary>
    public sealed record SimulatedSource(SourceMetaSimulator Meta, SourceStreamSimulator Stream, SimulatedCollection Collection);
}
