using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Xunit.Abstractions;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Two servers (OS processes of their own) on one database form one cluster: Wolverine's agent assignment spreads the
/// tasks over both, and when one is killed (SIGKILL) its tasks run again on the other within 30 s, each from its
/// checkpoints, so every target ends with exactly the source's rows, and no target pchannel's time goes back.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class ClusterTakeoverScenario(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Tasks = 3;
    private readonly ScenarioSource _source = new("cluster");
    private readonly CancellationToken _deadline = new CancellationTokenSource(TimeSpan.FromSeconds(180)).Token;
    private readonly List<FakeMilvusServer> _targets = [];
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync()
    {
        for (var i = 0; i < Tasks; i++) _targets.Add(await FakeMilvusServer.StartAsync());
        _database = await PostgresDatabase.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var target in _targets) await target.DisposeAsync();
        await _database.DisposeAsync();
        _source.Dispose();
    }

    private static string Runs(string taskId) => $"starting the replication of task {taskId}";

    private Dictionary<string, string> Settings => new(_source.ServerSettings)
    {
        ["metaStoreConfig:postgres:connectionString"] = _database.ConnectionString,
        ["metaStoreConfig:secretKey"] = CdcApp.SecretKey,
    };

    /// <summary>
    /// The server running a task is killed while rows stream in; the other server takes the task over from its
    /// checkpoints and the time it reserved on the target, so no target pchannel's time goes back and the target ends
    /// with exactly the source's rows.
    /// </summary>
    [Fact]
    public async Task A_task_taken_over_mid_stream_keeps_every_target_channels_time_going_forward()
    {
        string[] collections = ["books", "authors"];
        foreach (var collection in collections) await _source.CreateCollectionAsync(collection, _deadline);
        var target = _targets[0];
        await using var a = await CdcServerProcess.StartAsync(Settings, _deadline);
        await using var b = await CdcServerProcess.StartAsync(Settings, _deadline);
        try
        {
            var taskId = await Scenario.CreateTaskAsync((type, data) => a.PostAsync(type, data), target);
            await Scenario.WaitUntilReadingAsync(target, _source, collections, _deadline);
            var (running, other) = a.Output.Contains(Runs(taskId)) ? (a, b) : (b, a);
            Assert.Contains(Runs(taskId), running.Output);

            var writer = new ScenarioWriter(_source, collections, _deadline);
            await Scenario.EventuallyAsync(() => Scenario.TargetRows(target, "books").Count > 500, () => "rows on the target before the kill");
            running.Kill();
            var ticksAtKill = target.LastTicks;
            var killedAtRound = writer.Rounds;
            await Scenario.EventuallyAsync(() => other.Output.Contains(Runs(taskId)), () => "the other server taking the task over", TimeSpan.FromSeconds(45));
            await Scenario.EventuallyAsync(() => writer.Rounds >= killedAtRound + 20, () => "more rounds written after the take-over");
            await writer.StopAsync();
            await _source.TickAsync(_deadline);

            await Scenario.TargetEqualsSourceAsync(target, _source, collections, TimeSpan.FromSeconds(90));
            Scenario.AssertTimeMovedOn(target, ticksAtKill, output);
            Scenario.WriteResent(_source, target, output);
            Assert.Equal("Running", (await Scenario.GetTaskAsync((type, data) => other.PostAsync(type, data), taskId)).State);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- server A ---\n{a.Output}\n--- server B ---\n{b.Output}");
        }
    }

    [Fact]
    public async Task Tasks_spread_over_the_servers_and_a_killed_servers_tasks_run_on_the_other_within_30_seconds()
    {
        string[] collections = ["books"];
        foreach (var collection in collections) await _source.CreateCollectionAsync(collection, _deadline);
        await using var a = await CdcServerProcess.StartAsync(Settings, _deadline);
        await using var b = await CdcServerProcess.StartAsync(Settings, _deadline);
        try
        {
            CdcCall cdc = (type, data) => a.PostAsync(type, data);
            var tasks = new List<string>();
            foreach (var target in _targets) tasks.Add(await Scenario.CreateTaskAsync(cdc, target));
            foreach (var target in _targets) await Scenario.WaitUntilReadingAsync(target, _source, collections, _deadline);

            // Spread: each server runs at least one task, and no task started on both.
            var onA = tasks.Where(t => a.Output.Contains(Runs(t))).ToList();
            var onB = tasks.Where(t => b.Output.Contains(Runs(t))).ToList();
            output.WriteLine($"server A runs {onA.Count} tasks, server B runs {onB.Count}");
            Assert.NotEmpty(onA);
            Assert.NotEmpty(onB);
            Assert.Empty(onA.Intersect(onB));

            await _source.InsertAsync("books", Scenario.Keys(1, 100), _deadline);
            await _source.TickAsync(_deadline);
            foreach (var target in _targets)
                await Scenario.EventuallyAsync(() => Scenario.TargetRows(target, "books").Count == 100, () => "rows before the kill");

            a.Kill();
            var killedAt = DateTimeOffset.UtcNow;
            await Scenario.EventuallyAsync(() => onA.All(t => b.Output.Contains(Runs(t))),
                () => $"server B took over A's tasks; B's output:\n{b.Output}", TimeSpan.FromSeconds(30));
            var tookOver = DateTimeOffset.UtcNow - killedAt;
            output.WriteLine($"server B started A's {onA.Count} tasks {tookOver.TotalSeconds:F1} s after A was killed");

            await _source.InsertAsync("books", Scenario.Keys(101, 100), _deadline);
            await _source.DeleteAsync("books", Scenario.Keys(1, 10), _deadline);
            await _source.TickAsync(_deadline);
            foreach (var target in _targets) await Scenario.TargetEqualsSourceAsync(target, _source, collections);
            CdcCall survivor = (type, data) => b.PostAsync(type, data);
            foreach (var task in tasks) Assert.Equal("Running", (await Scenario.GetTaskAsync(survivor, task)).State);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- server A ---\n{a.Output}\n--- server B ---\n{b.Output}");
        }
    }
}
