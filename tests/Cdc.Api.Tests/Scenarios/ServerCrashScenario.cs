using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Xunit.Abstractions;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that killing the server (SIGKILL, an OS process of its own started as an operator starts it) while rows are
/// being written loses nothing: a new server process on the same database takes the task over once the dead one's
/// lease expired, resumes from the recorded checkpoints, and in the end the target holds exactly the source's rows;
/// no target pchannel's time went back across the crash (ticks, rows and deletes all after what the dead server sent).
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class ServerCrashScenario(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ScenarioSource _source = new("crash");
    private readonly CancellationToken _deadline = new CancellationTokenSource(TimeSpan.FromSeconds(150)).Token;
    private FakeMilvusServer _target = null!;
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _target = await FakeMilvusServer.StartAsync();
        _database = await PostgresDatabase.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await _target.DisposeAsync();
        await _database.DisposeAsync();
        _source.Dispose();
    }

    [Fact]
    public async Task A_server_killed_mid_stream_and_started_again_loses_nothing()
    {
        string[] collections = ["books", "authors"];
        foreach (var collection in collections) await _source.CreateCollectionAsync(collection, _deadline);
        var settings = new Dictionary<string, string>(_source.ServerSettings)
        {
            ["metaStoreConfig:postgres:connectionString"] = _database.ConnectionString,
            ["metaStoreConfig:secretKey"] = CdcApp.SecretKey,
        };

        var first = await CdcServerProcess.StartAsync(settings, _deadline);
        CdcServerProcess? second = null;
        try
        {
            CdcCall firstCdc = (type, data) => first.PostAsync(type, data);
            var taskId = await Scenario.CreateTaskAsync(firstCdc, _target);
            await Scenario.WaitUntilReadingAsync(_target, _source, collections, _deadline);

            // A writer that keeps going through the crash and the take-over.
            var writer = new ScenarioWriter(_source, collections, _deadline);
            await Scenario.EventuallyAsync(() => Scenario.TargetRows(_target, "books").Count > 500,
                () => $"rows on the target before the crash; server output:\n{first.Output}");
            var behind = _source.Rows("books").Count - Scenario.TargetRows(_target, "books").Count;
            var pid = first.ProcessId;
            first.Kill();
            Assert.True(first.HasExited);
            var ticksAtKill = _target.LastTicks;
            var killedAtRound = writer.Rounds;
            var killedAt = DateTimeOffset.UtcNow;
            output.WriteLine($"killed server {pid} at round {killedAtRound}, the target {behind} books rows behind the source");

            var restarted = second = await CdcServerProcess.StartAsync(settings, _deadline);
            CdcCall secondCdc = (type, data) => restarted.PostAsync(type, data);
            Assert.Equal("Running", (await Scenario.GetTaskAsync(secondCdc, taskId)).State);
            await Scenario.EventuallyAsync(() => writer.Rounds >= killedAtRound + 20, () => "more rounds written after the crash");
            await writer.StopAsync();
            await _source.TickAsync(_deadline);

            // The exact rows, and on every target pchannel time only went forward across the crash.
            await Scenario.TargetEqualsSourceAsync(_target, _source, collections, TimeSpan.FromSeconds(90));
            Scenario.AssertTimeMovedOn(_target, ticksAtKill, output);
            output.WriteLine($"{writer.Rounds} rounds, {_source.Writes.Count} keys written; the target equals the source "
                             + $"{(DateTimeOffset.UtcNow - killedAt).TotalSeconds:F1} s after the kill");
            Scenario.WriteResent(_source, _target, output);
            Assert.Equal("Running", (await Scenario.GetTaskAsync(secondCdc, taskId)).State);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- first server ---\n{first.Output}\n--- second server ---\n{second?.Output}");
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null) await second.DisposeAsync();
        }
    }
}
