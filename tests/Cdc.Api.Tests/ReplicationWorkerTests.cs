using Alba;
using Cdc.Application.Replication.Running;
using Cdc.Application.Replication.Supervision;
using Cdc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cdc.Api.Tests;

/// <summary>The hosted worker reacts to task commands sent over HTTP, with the replication engine at its port.</summary>
public sealed class ReplicationWorkerTests
{
    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Task_commands_start_and_stop_the_replication_and_a_halt_pauses_with_its_reason()
    {
        var replication = new RecordingReplication();
        await using var app = await CdcApp.StartAsync(services: s => s.AddSingleton<ITaskReplication>(replication));

        var id = await app.CreateSeedTaskAsync();
        await Eventually(() => Task.FromResult(replication.RunningCount(id) == 1), "the created task runs");

        await app.Host.Scenario(s => s.PostEnvelope("pause", new { task_id = id }));
        await Eventually(() => Task.FromResult(replication.RunningCount(id) == 0), "the paused task stops");

        await app.Host.Scenario(s => s.PostEnvelope("resume", new { task_id = id }));
        await Eventually(() => Task.FromResult(replication.RunningCount(id) == 1), "the resumed task runs again");

        replication.Halt(id, "fail to read the message, err: corrupt payload");
        await Eventually(async () =>
        {
            var (_, got) = await app.PostAsync("get", new { task_id = id });
            return got["data"]!["Task"]!["state"]!.GetValue<string>() == "Paused";
        }, "the halted task is paused");
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.reason").ShouldBe("fail to read the message, err: corrupt payload");
        });

        await app.Host.Scenario(s => s.PostEnvelope("resume", new { task_id = id }));
        await Eventually(() => Task.FromResult(replication.RunningCount(id) == 1), "resumed after the halt");
        await app.Host.Scenario(s => s.PostEnvelope("delete", new { task_id = id }));
        await Eventually(() => Task.FromResult(replication.RunningCount(id) == 0), "the deleted task stops");
        Assert.Equal(["start", "stop", "start", "stop", "start", "stop"], replication.Log.Select(l => l.Split(' ')[0]));
    }

    [Fact]
    public async Task Without_a_replication_engine_the_worker_says_so_and_the_api_still_works()
    {
        await using var app = await CdcApp.StartAsync(CdcApp.WithoutReplicationEngine());
        await app.CreateSeedTaskAsync();
        Assert.Contains(app.Logs.Lines, l => l.Contains("no replication engine is registered"));
    }

    [Fact]
    public async Task With_a_Kafka_source_the_server_registers_the_replication_engine()
    {
        await using var app = await CdcApp.StartAsync(new Dictionary<string, string> { ["sourceConfig:kafka:address"] = "127.0.0.1:9092" });
        Assert.IsType<Cdc.Application.Replication.Running.TaskReplication>(app.Services.GetRequiredService<ITaskReplication>());
    }
}
