using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.Milvus;
using Xunit.Abstractions;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// A task in apply mode "upsert" writing into an ordinary Milvus (ttMsgEnabled on) that another client writes too:
/// the server process is killed (SIGKILL) mid-stream, a new one takes the task over from its checkpoints and sends
/// again what came after them, and the target ends with exactly the source's rows: the same keys, count(*) equal (no
/// row twice), the same values; the other client's collection is as it wrote it.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class UpsertCrashScenario(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ScenarioSource _source = new("upsert-crash");
    private readonly CancellationToken _deadline = new CancellationTokenSource(TimeSpan.FromSeconds(150)).Token;
    private FakeMilvusServer _target = null!;
    private MilvusTestClient _client = null!;
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _target = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { TtMsgEnabled = true });
        _client = new MilvusTestClient(_target.Uri);
        _database = await PostgresDatabase.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _target.DisposeAsync();
        await _database.DisposeAsync();
        await _source.DisposeAsync();
    }

    [Fact]
    public async Task A_server_killed_mid_stream_leaves_the_target_with_the_sources_rows_once_each()
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
            var taskId = await Scenario.CreateTaskAsync(firstCdc, _target, applyMode: "upsert");
            await WaitUntilReadingAsync(firstCdc, taskId);
            foreach (var collection in collections) await _client.LoadCollectionAsync("default", collection, _deadline);

            // Another client's collection on the same target, written all along.
            var notes = Cdc.Testing.Milvus.MilvusMessages.Schema("notes", dim: 2);
            await _client.CreateCollectionAsync("default", notes, ct: _deadline);
            await _client.LoadCollectionAsync("default", "notes", _deadline);

            using var stopWriting = CancellationTokenSource.CreateLinkedTokenSource(_deadline);
            var rounds = 0;
            var noteRows = 0L;
            var writer = Task.Run(async () =>
            {
                for (; !stopWriting.IsCancellationRequested; rounds++)
                {
                    foreach (var collection in collections)
                        await _source.InsertDeleteReinsertAsync(collection, Scenario.Keys(1 + rounds * 60L, 60), _deadline);
                    await _source.TickAsync(_deadline);
                    long[] noteKeys = [.. Scenario.Keys(1 + rounds * 10L, 10)];
                    await _client.UpsertAsync("default", "notes", [MilvusTestClient.Int64Column("pk", noteKeys),
                        MilvusTestClient.FloatVectorColumn("vec", 2, noteKeys.Select(k => new[] { -k, -k - 0.5f }))], 10, ct: _deadline);
                    noteRows += 10;
                    await Task.Delay(50, _deadline);
                }
            }, _deadline);

            await Scenario.EventuallyAsync(() => Scenario.TargetRows(_target, "books").Count > 500,
                () => $"rows on the target before the crash; server output:\n{first.Output}");
            var pid = first.ProcessId;
            first.Kill();
            Assert.True(first.HasExited);
            var killedAtRound = rounds;
            var upsertedBeforeRestart = UpsertedRows();
            output.WriteLine($"killed server {pid} at round {killedAtRound}");

            var restarted = second = await CdcServerProcess.StartAsync(settings, _deadline);
            CdcCall secondCdc = (type, data) => restarted.PostAsync(type, data);
            Assert.Equal("Running", (await Scenario.GetTaskAsync(secondCdc, taskId)).State);
            await Scenario.EventuallyAsync(() => rounds >= killedAtRound + 20, () => "more rounds written after the crash");
            await stopWriting.CancelAsync();
            await writer.ContinueWith(_ => { }, TaskScheduler.Default);
            await _source.TickAsync(_deadline);

            await Scenario.TargetEqualsSourceAsync(_target, _source, collections, TimeSpan.FromSeconds(90));
            foreach (var collection in collections)
            {
                var keys = _source.Rows(collection);
                Assert.Equal(keys.Count, await _client.CountAsync("default", collection, _deadline));
                var fetched = await _client.FetchAsync("default", collection, "pk", keys, ["vec"], _deadline);
                Assert.Equal(keys, fetched.FieldsData.Single(f => f.FieldName == "pk").Scalars.LongData.Data);
                Assert.Equal(keys.SelectMany(k => new[] { k, k + 0.5f }), fetched.FieldsData.Single(f => f.FieldName == "vec").Vectors.FloatVector.Data);
            }

            Assert.Equal(noteRows, await _client.CountAsync("default", "notes", _deadline));
            var theirs = await _client.FetchAsync("default", "notes", "pk", Scenario.Keys(1, (int)noteRows), ["vec"], _deadline);
            Assert.Equal(Scenario.Keys(1, (int)noteRows).SelectMany(k => new[] { -k, -k - 0.5f }), theirs.FieldsData.Single(f => f.FieldName == "vec").Vectors.FloatVector.Data);
            Assert.Empty(_target.CallsTo("ReplicateMessage"));
            Assert.Equal("Running", (await Scenario.GetTaskAsync(secondCdc, taskId)).State);
            output.WriteLine($"{rounds} rounds; {UpsertedRows() - upsertedBeforeRestart} rows upserted after the restart, "
                             + $"{UpsertedRows() - _source.Writes.Sum(w => w.Value.Count(c => c == 'I'))} of them sent a second time; no duplicate on the target");
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

    /// <summary>Rows the target took through the task's Upsert calls (the other client's left out).</summary>
    private long UpsertedRows() =>
        _target.CallsTo("Upsert").Select(c => c.RequestAs<Cdc.Infrastructure.Milvus.Protos.Rpc.UpsertRequest>())
            .Where(u => u.CollectionName != "notes").Sum(u => (long)u.NumRows);

    /// <summary>
    /// Waits until get shows a checkpoint on every channel of the task: a new task checkpoints each channel where it
    /// starts reading, so from then on nothing written to the source is missed. (In apply mode "upsert" no time tick
    /// reaches the target to tell.)
    /// </summary>
    private async Task WaitUntilReadingAsync(CdcCall cdc, string taskId)
    {
        var channels = new[] { "books", "authors" }.SelectMany(c => _source[c].PhysicalChannels).Append(_source.ReplicateChannel).ToHashSet();
        await Scenario.EventuallyAsync(async () =>
        {
            var (_, body) = await cdc("get", new { task_id = taskId });
            var positions = body["data"]?["Task"]?["position"]?.AsArray() ?? [];
            return channels.IsSubsetOf(positions.Select(p => p!["channel_name"]!.GetValue<string>()));
        }, () => "a checkpoint on every channel of the task");
    }
}
