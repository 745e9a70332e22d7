namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that a target Milvus that cannot be reached for a while does not stop the task: it stays Running (get says
/// so while the target is down), the writes are retried, and once the target listens again on the same address (with
/// the data it had, as a real Milvus keeps it) the rows written meanwhile all arrive and the target equals the source.
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
        for (var round = 0; round < 8; round++)
        {
            await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1001 + round * 100, 100), Deadline);
            await Source.InsertDeleteReinsertAsync("authors", Scenario.Keys(1001 + round * 100, 100), Deadline);
            await Source.DeleteAsync("authors", [1 + round], Deadline);
            await Source.TickAsync(Deadline);
            await Task.Delay(500, Deadline);
            var (state, reason) = await Scenario.GetTaskAsync(Cdc, taskId);
            Assert.True(state == "Running", $"the task is {state} while the target is down: {reason}");
        }

        await Target.StartListeningAsync(Deadline);
        Assert.Equal(address, Target.Uri);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);
        Assert.Equal("Running", (await Scenario.GetTaskAsync(Cdc, taskId)).State);
    }
}
