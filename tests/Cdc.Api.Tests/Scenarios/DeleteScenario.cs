using Alba;
using Cdc.Testing;

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

        await App.Host.Scenario(s =>
        {
            s.PostEnvelope("delete", new { task_id = taskId });
            s.StatusCodeShouldBeOk();
        });
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

        await App.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = taskId });
            s.StatusCodeShouldBe(400);
            s.MessageShouldContain("not found", taskId);
        });
        await App.Host.Scenario(s =>
        {
            s.PostEnvelope("list", new { });
            s.StatusCodeShouldBeOk();
            s.ContentShouldNotContain(taskId);
        });
    }
}
