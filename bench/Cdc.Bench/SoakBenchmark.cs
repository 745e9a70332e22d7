using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.SourceSimulator;
using Npgsql;

namespace Cdc.Bench;

/// <summary>
/// Soak: the real server in a process of its own replicates a steady stream for 10 minutes (CDC_SOAK_MINUTES to
/// change it), with the task paused and resumed every minute; the server's resident memory, open file handles,
/// threads and the event store's rows are sampled along the way, and at the end the target must hold exactly the
/// source's rows.
/// </summary>
public static class SoakBenchmark
{
    private const int DmlChannels = 4;
    private const int Shards = 2;
    private const int Dimension = 8;
    private const int RowsPerWrite = 20;
    private static readonly string[] Collections = ["books", "authors"];
    private static readonly TimeSpan WriteInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan PauseEvery = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan PausedFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(30);

    /// <summary>The first sample is taken after this: start-up, JIT and pools are then behind.</summary>
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        var minutes = double.TryParse(Environment.GetEnvironmentVariable("CDC_SOAK_MINUTES"), CultureInfo.InvariantCulture, out var m) && m > 0 ? m : 10;
        var duration = TimeSpan.FromMinutes(minutes);
        using var deadline = new CancellationTokenSource(duration + TimeSpan.FromMinutes(5));
        var ct = deadline.Token;

        await using var database = await PostgresDatabase.CreateAsync();
        await using var target = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { RecordCalls = false }, ct);
        using var etcd = EtcdTestStore.Client();
        using var producer = KafkaTestBroker.Producer();
        var prefix = KafkaTestBroker.UniqueTopic("soak");
        var rootPath = EtcdTestStore.UniquePrefix("soak").TrimEnd('/');
        var meta = new SourceMetaSimulator(etcd, new SourceMetaSimulatorOptions(RootPath: rootPath, ClusterPrefix: prefix, DmlChannelNum: DmlChannels));
        var stream = new SourceStreamSimulator(producer, SourceMilvusVersion.V2_4, TimeProvider.System, $"{prefix}-replicate-msg");
        await meta.StartAsync(ct);
        var collections = new List<SimulatedCollection>();
        foreach (var name in Collections)
        {
            var collection = await meta.CreateCollectionAsync("default", name,
                new SimulatedSchema().WithInt64PrimaryKey("pk").WithFloatVector("vector", Dimension), ct, shards: Shards);
            foreach (var pchannel in collection.PhysicalChannels) stream.AddPhysicalChannel(pchannel);
            collections.Add(collection);
        }

        var settings = new Dictionary<string, string>
        {
            ["sourceConfig:etcd:address:0"] = EtcdTestStore.Endpoint,
            ["sourceConfig:etcd:rootPath"] = rootPath,
            ["sourceConfig:kafka:address"] = KafkaTestBroker.Bootstrap,
            ["sourceConfig:pulsar:address"] = "",
            ["sourceConfig:replicateChan"] = stream.ReplicateChannel,
            ["metaStoreConfig:postgres:connectionString"] = database.ConnectionString,
            ["metaStoreConfig:secretKey"] = CdcApp.SecretKey,
        };
        await using var server = await CdcServerProcess.StartAsync(settings, ct);
        Console.WriteLine($"server process {server.ProcessId} on {server.Address}, soak of {minutes:0.#} min");
        var (status, body) = await server.PostAsync("create", new JsonObject
        {
            ["milvus_connect_param"] = new JsonObject { ["uri"] = target.Uri.ToString(), ["token"] = "root:Milvus", ["connect_timeout"] = 10 },
            ["collection_infos"] = new JsonArray(new JsonObject { ["name"] = "*" }),
        });
        var taskId = status == 200 ? body["data"]!["task_id"]!.GetValue<string>() : throw new InvalidOperationException($"create answered {status}: {body.ToJsonString()}");
        await WaitAsync(() => Collections.All(c => target.Collections.Any(t => t.DbName == "default" && t.Name == c)), TimeSpan.FromSeconds(60), "the collections on the target", server);
        // Every reader is open once a tick reached each pchannel of the collections on the target.
        await WaitAsync(() => DmlChannels <= target.LastTicks.Count, TimeSpan.FromSeconds(60), "ticks on every target pchannel", server, () => stream.TickAsync(ct));

        var written = new Dictionary<string, long>(StringComparer.Ordinal);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writer = Task.Run(() => WriteAsync(stream, collections, written, running.Token), CancellationToken.None);
        var ticker = Task.Run(() => TickAsync(stream, running.Token), CancellationToken.None);

        var samples = new List<Sample>();
        var pauses = 0;
        var watch = Stopwatch.StartNew();
        var nextPause = PauseEvery;
        var nextSample = WarmUp;
        while (watch.Elapsed < duration)
        {
            if (server.HasExited) throw new InvalidOperationException($"the server exited:\n{server.Output}");
            if (watch.Elapsed >= nextSample)
            {
                samples.Add(await SampleAsync(server.ProcessId, database, watch.Elapsed, ct));
                Console.WriteLine(samples[^1]);
                nextSample += SampleEvery;
            }

            if (watch.Elapsed >= nextPause)
            {
                await CallAsync(server, "pause", taskId);
                await Task.Delay(PausedFor, ct);
                await CallAsync(server, "resume", taskId);
                pauses++;
                nextPause += PauseEvery;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }

        await running.CancelAsync();
        await Task.WhenAll(writer, ticker);
        await stream.TickAsync(ct);
        var exact = await WaitAsync(
            () => Collections.All(c => target.Rows("default", c).Select(r => r.PrimaryKey).Distinct().Count() == written.GetValueOrDefault(c)
                                       && target.Rows("default", c).Count == written.GetValueOrDefault(c)),
            TimeSpan.FromSeconds(120), "the target holding the source's rows", server, throwOnTimeout: false);
        var distinctKeys = Collections.Sum(c => target.Rows("default", c).Select(r => (long)r.PrimaryKey).Distinct().Count());
        var end = await SampleAsync(server.ProcessId, database, watch.Elapsed, ct);
        samples.Add(end);
        var (get, getBody) = await server.PostAsync("get", new JsonObject { ["task_id"] = taskId });
        var state = get == 200 ? getBody["data"]!["Task"]!["state"]!.GetValue<string>() : $"get answered {get}";

        var first = samples[0];
        var now = context.TimeProvider.GetUtcNow();
        var text = new StringBuilder()
            .AppendLine("# soak")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"The real server in a process of its own (Cdc.Api.dll, Release, server GC) replicates {Collections.Length} collections of {Shards} shards on {DmlChannels} pchannels")
            .AppendLine(CultureInfo.InvariantCulture, $"(a 2.4 source: etcd and the Kafka mock) for {minutes:0.#} minutes: {RowsPerWrite} rows ({Dimension}-dim vectors) into one collection every {WriteInterval.TotalMilliseconds:0} ms, alternating,")
            .AppendLine(CultureInfo.InvariantCulture, $"a source tick every {TickInterval.TotalMilliseconds:0} ms, and the task paused for {PausedFor.TotalSeconds:0} s and resumed every {PauseEvery.TotalMinutes:0} minute ({pauses} times). The fake")
            .AppendLine(CultureInfo.InvariantCulture, $"target (in the benchmark's process) keeps the rows. Samples every {SampleEvery.TotalSeconds:0} s from {WarmUp.TotalSeconds:0} s on: the server's resident memory")
            .AppendLine("(VmRSS), open file descriptors (/proc/<pid>/fd), threads, and the rows of every table of the event store's database.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | minutes | pause/resume cycles | rows written | rows on the target | exact | task state | RSS MB first → last | fds first → last | threads first → last | event store rows first → last |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|")
            .AppendLine(CultureInfo.InvariantCulture,
                $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {minutes:0.#} | {pauses} | {written.Values.Sum():N0} | {distinctKeys:N0} | {(exact ? "yes" : "**no**")} | {state} | {first.RssMB:F0} → {end.RssMB:F0} | {first.Fds} → {end.Fds} | {first.Threads} → {end.Threads} | {first.StoreRows:N0} → {end.StoreRows:N0} |")
            .AppendLine()
            .AppendLine("Samples (seconds since the writes began):")
            .AppendLine()
            .AppendLine("| s | RSS MB | fds | fds by kind | threads | event store rows | rows by table |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var s in samples)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {s.At.TotalSeconds:F0} | {s.RssMB:F0} | {s.Fds} | {s.FdKinds} | {s.Threads} | {s.StoreRows:N0} | {s.Tables} |");
        }

        text.AppendLine()
            .AppendLine("Flat means: no growth from the first sample to the last beyond what the run's own history adds (each pause and resume")
            .AppendLine("appends two events to the task's stream and keeps them; checkpoints are trimmed as they are superseded).")
            .AppendLine()
            .AppendLine(BenchmarkContext.MachineNote(loadBefore));
        Console.WriteLine(text);
        await ThroughputBenchmark.WriteAsync(context, "soak.md", text.ToString());
    }

    private static async Task WriteAsync(SourceStreamSimulator stream, IReadOnlyList<SimulatedCollection> collections, Dictionary<string, long> written, CancellationToken ct)
    {
        var vectors = PipelineHarness.Vectors(RowsPerWrite, Dimension);
        using var timer = new PeriodicTimer(WriteInterval);
        long key = 0;
        var turn = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var collection = collections[turn % collections.Count];
                var vchannel = collection.VirtualChannels[turn / collections.Count % collection.VirtualChannels.Count];
                var keys = Enumerable.Range(0, RowsPerWrite).Select(i => key + i).ToArray();
                // Not cancelled midway: a write either happened and is counted, or did not start.
                await stream.InsertAsync(vchannel, collection.Id, collection.Partitions[0].Id, keys, vectors, CancellationToken.None, collectionName: collection.Name);
                written[collection.Name] = written.GetValueOrDefault(collection.Name) + RowsPerWrite;
                key += RowsPerWrite;
                turn++;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task TickAsync(SourceStreamSimulator stream, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TickInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await stream.TickAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task CallAsync(CdcServerProcess server, string type, string taskId)
    {
        var (status, body) = await server.PostAsync(type, new JsonObject { ["task_id"] = taskId });
        if (status != 200) throw new InvalidOperationException($"{type} answered {status}: {body.ToJsonString()}");
    }

    private static async Task<bool> WaitAsync(
        Func<bool> condition, TimeSpan limit, string what, CdcServerProcess server, Func<Task>? meanwhile = null, bool throwOnTimeout = true)
    {
        var until = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                return throwOnTimeout ? throw new InvalidOperationException($"no {what} within {limit.TotalSeconds:0} s; server output:\n{server.Output}") : false;
            }

            if (meanwhile is not null) await meanwhile();
            await Task.Delay(200);
        }

        return true;
    }

    /// <summary>One sample of the server process and the event store.</summary>
    private sealed record Sample(TimeSpan At, double RssMB, int Fds, string FdKinds, int Threads, long StoreRows, string Tables)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{At.TotalSeconds:F0} s: RSS {RssMB:F0} MB, {Fds} fds ({FdKinds}), {Threads} threads, {StoreRows} event store rows ({Tables})");
    }

    /// <summary>What an open descriptor is: socket, pipe, anon_inode:[eventfd], or a file by its extension ("file.dll").</summary>
    private static string Kind(string fd)
    {
        try
        {
            var target = new FileInfo(fd).LinkTarget ?? "?";
            return target.StartsWith('/') ? $"file{Path.GetExtension(target)}" : target.Split(':')[0] is "anon_inode" ? target : target.Split(':')[0];
        }
        catch (IOException)
        {
            return "gone";
        }
    }

    private static async Task<Sample> SampleAsync(int pid, PostgresDatabase database, TimeSpan at, CancellationToken ct)
    {
        var process = pid.ToString(CultureInfo.InvariantCulture);
        var links = Directory.GetFiles($"/proc/{pid}/fd").Select(Kind).ToList();
        var fds = links.Count;
        var fdKinds = string.Join(" ", links.GroupBy(k => k).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));
        await using var source = database.CreateDataSource();
        var tables = new List<(string Name, long Rows)>();
        await using (var list = source.CreateCommand(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) tables.Add(($"{reader.GetString(0)}.{reader.GetString(1)}", 0));
        }

        for (var i = 0; i < tables.Count; i++)
        {
            var parts = tables[i].Name.Split('.');
            await using var count = source.CreateCommand($"select count(*) from \"{parts[0]}\".\"{parts[1]}\"");
            tables[i] = (tables[i].Name, (long)(await count.ExecuteScalarAsync(ct))!);
        }

        return new Sample(at, MemoryBenchmark.StatusValue(process, "VmRSS") / 1024.0, fds, fdKinds, (int)MemoryBenchmark.StatusValue(process, "Threads"), tables.Sum(t => t.Rows),
            string.Join(", ", tables.Where(t => t.Rows > 0).Select(t => $"{t.Name[(t.Name.IndexOf('.') + 1)..]} {t.Rows}")));
    }
}
