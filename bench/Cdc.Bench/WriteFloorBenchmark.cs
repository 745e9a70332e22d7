using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Infrastructure.EventStore;
using Cdc.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cdc.Bench;

/// <summary>
/// The floor under the API's pause and resume: the same 16 concurrent writers as the API benchmark, with no HTTP, no
/// server and no task runs, straight on the event store (Marten on PostgreSQL, in this process): a round trip
/// (<c>select 1</c>), a plain transaction (insert and commit on a pooled connection), the two steps of a pause or
/// resume apart (the task's state read from its view; the event appended with its expected version and the inline
/// projections written, in one transaction) and both as the handlers do them; and six appends in one transaction, what
/// group commit would give. PostgreSQL's CPU is measured too:
/// it shares the 2 cores with everything else, so it is part of what each write costs.
/// </summary>
public static class WriteFloorBenchmark
{
    private const int Clients = 16;
    private const int Tasks = 100;
    private const int Writes = 3000;
    private const int Rounds = 3;
    private const int GroupSize = 6; // every client has at least 6 tasks of its own (100 / 16)

    public static async Task RunAsync(BenchmarkContext context)
    {
        var loadBefore = BenchmarkContext.LoadAverage();
        await using var database = await PostgresDatabase.CreateAsync();
        var connectionString = StatementCaching.WithDefaults(database.ConnectionString);
        var options = new EventStoreOptions("cdc", "cdc");
        using var documents = EventStoreHarness.OpenStore(connectionString, options);
        await EventStoreStartup.EnsureAsync(documents, connectionString, options, NullLogger.Instance, CancellationToken.None);
        var store = new MartenEventStore(documents, options);
        var streams = new Cdc.Application.Tasks.TaskStreams(store, new MartenTaskViews(documents, options));
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var create = dataSource.CreateCommand("create table write_floor (id bigserial primary key, data jsonb not null)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var ids = Enumerable.Range(0, Tasks).Select(i => $"floor-{i}").ToArray();
        foreach (var id in ids)
        {
            await store.AppendAsync(new StreamAppend(id, StreamTypes.Task, 0, [TestTasks.Created(id)]), CancellationToken.None);
        }

        var now = DateTimeOffset.UtcNow;
        ITaskEvent Decide(Cdc.Domain.Tasks.CdcTask task) =>
            task.State == Cdc.Domain.Tasks.TaskState.Running ? task.Pause("floor", now) : task.Resume(now);

        // A task as it is after the event appended at this version.
        static Cdc.Domain.Tasks.CdcTask Remember(string id, ITaskEvent appended, long version) => Cdc.Domain.Tasks.CdcTask.Restore(id,
            appended is TaskPaused ? Cdc.Domain.Tasks.TaskState.Paused : Cdc.Domain.Tasks.TaskState.Running, (appended as TaskPaused)?.Reason, version);

        // Each client writes only tasks of its own (as the API benchmark's clients do), so no write races another.
        string TaskOf(int client, int n) => ids[client + Clients * (n % ((Tasks - client + Clients - 1) / Clients))];
        var known = new System.Collections.Concurrent.ConcurrentDictionary<string, Cdc.Domain.Tasks.CdcTask>();
        foreach (var id in ids) known[id] = await streams.LoadExistingAsync(id, CancellationToken.None);
        var operations = new (string Name, Func<int, int, Task> Call)[]
        {
            ("round trip (select 1)", async (_, _) =>
            {
                await using var command = dataSource.CreateCommand("select 1");
                await command.ExecuteScalarAsync();
            }),
            ("insert and commit", async (_, _) =>
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                await using var command = new NpgsqlCommand("insert into write_floor (data) values ($1::jsonb)", connection, transaction)
                {
                    Parameters = { new() { Value = """{"task_id":"floor","state":"Paused"}""" } },
                };
                await command.ExecuteNonQueryAsync();
                await transaction.CommitAsync();
            }),
            ("task state read (the task's view)", async (client, n) =>
            {
                await streams.LoadExistingAsync(TaskOf(client, n), CancellationToken.None);
            }),
            ("pause or resume event appended (version known)", async (client, n) =>
            {
                // The client keeps its tasks' states and versions, so only the append (with its version check and the
                // inline projections) is timed.
                var id = TaskOf(client, n);
                var task = known[id];
                var decided = Decide(task);
                known[id] = Remember(id, decided, await streams.AppendAsync(task, decided, CancellationToken.None));
            }),
            ("pause or resume (state read, then event appended)", async (client, n) =>
            {
                var task = await streams.LoadExistingAsync(TaskOf(client, n), CancellationToken.None);
                var decided = Decide(task);
                var version = await streams.AppendAsync(task, decided, CancellationToken.None);
                known[task.Id] = Remember(task.Id, decided, version); // for the next row
            }),
            ("six tasks' pauses or resumes in one transaction (a call is 6 appends)", async (client, n) =>
            {
                // What group commit would give: one Marten session appends to six streams (each with its expected
                // version and the inline projections) and commits once. The server does not do this (see the README).
                await using var session = documents.LightweightSession(options.Tenant);
                var decisions = new List<(string Id, ITaskEvent Event, long Version)>();
                foreach (var id in Enumerable.Range(0, GroupSize).Select(k => TaskOf(client, k)))
                {
                    var task = known[id];
                    var decided = Decide(task);
                    session.Events.Append(id, task.Version + 1, decided);
                    decisions.Add((id, decided, task.Version + 1));
                }

                await session.SaveChangesAsync();
                foreach (var (id, decided, version) in decisions) known[id] = Remember(id, decided, version);
            }),
        };

        var rows = new List<string>();
        foreach (var (name, call) in operations)
        {
            await MeasureAsync(call, Writes / 10); // warm-up: connections opened, statements prepared, code jitted
            var latencies = new List<double>();
            TimeSpan elapsed = default, ownCpu = default, postgresCpu = default;
            for (var round = 0; round < Rounds; round++)
            {
                var (l, e, c, p) = await MeasureAsync(call, Writes);
                latencies.AddRange(l);
                (elapsed, ownCpu, postgresCpu) = (elapsed + e, ownCpu + c, postgresCpu + p);
            }

            var s = LagBenchmark.Summary.Of(latencies);
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {DateTime.UtcNow:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {name} | {latencies.Count} | {s.P50:F1} | {s.P99:F1} | {s.Max:F1} | {latencies.Count / elapsed.TotalSeconds:F0} | {ownCpu.TotalMilliseconds / latencies.Count:F2} | {postgresCpu.TotalMilliseconds / latencies.Count:F2} |"));
            Console.WriteLine(rows[^1]);
        }

        var text = new StringBuilder()
            .AppendLine("# Write floor: the event store alone under the API benchmark's 16 clients")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{Clients} concurrent writers in one process (no HTTP, no server, no task runs), {Rounds} rounds of {Writes} calls after {Writes / 10} warm-up calls,")
            .AppendLine(CultureInfo.InvariantCulture, $"on PostgreSQL (fsync off, as in the tests) through Npgsql with the server's statement caching; {Tasks} tasks stored.")
            .AppendLine("round trip: `select 1` on a pooled connection; insert and commit: one jsonb row in a transaction; task state read: the")
            .AppendLine("task's view (`TaskStreams.LoadExistingAsync`); event appended: a pause or resume with the version the client kept, checked")
            .AppendLine("against the stream, with the inline projections, in one transaction; the last row is what the pause and resume handlers")
            .AppendLine("do, both steps; six tasks' pauses or resumes in one transaction: one Marten session appends to six streams of the client's")
            .AppendLine("(each with its expected version and the projections) and commits once, what group commit would give (the server does not:")
            .AppendLine("see the README). Each client works on tasks of its own (as in the API benchmark).")
            .AppendLine("CPU per call: this process's CPU time and PostgreSQL's (all its processes) while the calls ran, divided by the calls.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | operation | calls | p50 ms | p99 ms | max ms | calls/s | CPU ms/call, this process | CPU ms/call, PostgreSQL |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows) text.AppendLine(row);
        text.AppendLine()
            .AppendLine("The API benchmark's target for pause, resume and create is a p99 at most 10 times that of /healthz (1.5 ms there,")
            .AppendLine("so about 15 ms). With 16 clients always waiting on the 2 cores, a call's latency is about 16 times the CPU time the")
            .AppendLine("cores spend on each call (Little's law), p99 about twice that.")
            .AppendLine()
            .AppendLine(BenchmarkContext.MachineNote(loadBefore));
        await ThroughputBenchmark.WriteAsync(context, "write-floor.md", text.ToString());
    }

    /// <summary>Calls <paramref name="call"/> <paramref name="count"/> times from <see cref="Clients"/> clients.</summary>
    private static async Task<(List<double> Latencies, TimeSpan Elapsed, TimeSpan OwnCpu, TimeSpan PostgresCpu)> MeasureAsync(
        Func<int, int, Task> call, int count)
    {
        var next = -1;
        var perClient = new List<double>[Clients];
        var own = Process.GetCurrentProcess().TotalProcessorTime;
        var postgres = PostgresCpu();
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            var mine = perClient[client] = [];
            var n = 0;
            while (Interlocked.Increment(ref next) < count)
            {
                var started = Stopwatch.GetTimestamp();
                await call(client, n++);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        wall.Stop();
        return ([.. perClient.SelectMany(l => l)], wall.Elapsed,
            Process.GetCurrentProcess().TotalProcessorTime - own, PostgresCpu() - postgres);
    }

    /// <summary>
    /// The CPU time of every postgres process (<see cref="FakeTargetProcess.CpuSecondsOf"/>). Found by /proc/PID/comm:
    /// a backend retitles its command line ("postgres: user db ..."), so it has no process name to look for.
    /// </summary>
    internal static TimeSpan PostgresCpu()
    {
        var seconds = 0.0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "postgres") seconds += FakeTargetProcess.CpuSecondsOf(pid);
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
            {
                // A process that ended meanwhile.
            }
        }

        return TimeSpan.FromSeconds(seconds);
    }
}
