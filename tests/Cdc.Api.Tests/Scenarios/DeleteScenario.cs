namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that delete ends a task for good: once its replication stopped, rows written to the source no longer reach
/// the target, and get answers that the task is unknown.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class DeleteScenario() : InProcessScenario("delete")
{
    [Fact]
    public async Task A_deleted_task_delivers_nothing_more_and_is_unknown()
    {
        string[] collections = ["books", "authors"];
        var taskId = await StartTaskAsync(collections);
        await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1, 200), Deadline);
        await Source.InsertAsync("authors", Scenario.Keys(1, 50), Deadline);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);

        var (status, body) = await Cdc("delete", new { task_id = taskId });
        Assert.True(status == 200, body.ToJsonString());
        await Scenario.EventuallyAsync(() => !Replicates(taskId), () => "the deleted task's replication to stop");
        await Task.Delay(300, Deadline); // the worker cancels the run right after it lets go of it

        var before = collections.ToDictionary(c => c, c => Scenario.TargetRows(Target, c));
        var calls = Target.Calls.Count;
        await Source.InsertAsync("books", Scenario.Keys(1001, 100), Deadline);
        await Source.DeleteAsync("authors", Scenario.Keys(1, 10), Deadline);
        for (var i = 0; i < 10; i++)
        {
            await Source.TickAsync(Deadline);
            await Task.Delay(200, Deadline);
        }

        foreach (var collection in collections) Assert.Equal(before[collection], Scenario.TargetRows(Target, collection));
        Assert.Equal(calls, Target.Calls.Count);

        (status, body) = await Cdc("get", new { task_id = taskId });
        Assert.Equal(400, status);
        Assert.Contains("not found", body["message"]!.GetValue<string>());
        Assert.Contains(taskId, body["message"]!.GetValue<string>());
        (status, body) = await Cdc("list", new { });
        Assert.Equal(200, status);
        Assert.DoesNotContain(body["data"]!["tasks"]!.AsArray(), t => t!["task_id"]!.GetValue<string>() == taskId);
    }
}
