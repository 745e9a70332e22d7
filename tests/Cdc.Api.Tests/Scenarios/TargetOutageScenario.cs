using System.Text.Json.Nodes;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that a target Milvus that cannot be reached for a while does not stop the task: it stays Running (get says
/// so while the target is down, with its health "retrying" and the last error), the writes are retried, and once the
/// target listens again on the same address (with the data it had, as a real Milvus keeps it) the rows written
/// meanwhile all arrive, the target equals the source and get's health says "replicating" again.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class TargetOutageScenario() : InProcessScenario("outage")
{
    [Fact]
    public async Task A_target_down_for_a_while_is_retried_and_caught_up()
    {
        string[] collections = ["books", "authors"];
        var taskId = await StartTaskAsync(collections);
        await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1, 200), Deadline);
        await Source.InsertDeleteReinsertAsync("authors", Scenario.Keys(1, 200), Deadline);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);

        var address = Target.Uri;
        await Target.StopListeningAsync();
        JsonNode? healthWhileDown = null;
        // The target client retries a refused call itself first (5 times, ~6 s of backoff) before the engine sees the
        // failure and get shows it: the writes go on until it does, or 30 rounds.
        for (var round = 0; round < 30 && (round < 8 || healthWhileDown is null); round++)
        {
            await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1001 + round * 100, 100), Deadline);
            await Source.InsertDeleteReinsertAsync("authors", Scenario.Keys(1001 + round * 100, 100), Deadline);
            await Source.DeleteAsync("authors", [1 + round], Deadline);
            await Source.TickAsync(Deadline);
            await Task.Delay(500, Deadline);
            var (state, reason) = await Scenario.GetTaskAsync(Cdc, taskId);
            Assert.True(state == "Running", $"the task is {state} while the target is down: {reason}");
            var (_, got) = await Cdc("get", new { task_id = taskId });
            if (got["data"]!["Task"]!["health"] is { } health && health["status"]!.GetValue<string>() == "retrying") healthWhileDown = health;
        }

        Assert.True(healthWhileDown is not null, "get never showed the task retrying while the target was down");
        Assert.StartsWith("cannot ", healthWhileDown!["last_error"]!.GetValue<string>());
        Assert.NotNull(healthWhileDown["last_error_time"]);

        await Target.StartListeningAsync(Deadline);
        Assert.Equal(address, Target.Uri);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);
        Assert.Equal("Running", (await Scenario.GetTaskAsync(Cdc, taskId)).State);
        for (var attempt = 0; ; attempt++)
        {
            var (_, got) = await Cdc("get", new { task_id = taskId });
            var health = got["data"]!["Task"]!["health"]!;
            if (health["status"]!.GetValue<string>() == "replicating")
            {
                Assert.InRange(health["lag_ms"]!.GetValue<long>(), 0, 10_000);
                break;
            }

            Assert.True(attempt < 50, $"still {health.ToJsonString()} after the target came back");
            await Source.TickAsync(Deadline);
            await Task.Delay(200, Deadline);
        }
    }
}
