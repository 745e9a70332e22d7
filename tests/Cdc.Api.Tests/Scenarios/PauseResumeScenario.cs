using Alba;
using Cdc.Testing;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that pause stops the delivery (rows written while the task is paused do not reach the target) and resume
/// catches up from where the task stopped: afterwards the target holds exactly the source's rows, the writes made
/// while paused included, and nothing sent again changed that.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class PauseResumeScenario() : InProcessScenario("pause")
{
    [Fact]
    public async Task Paused_task_delivers_nothing_and_resume_catches_up()
    {
        string[] collections = ["books", "authors"];
        var taskId = await StartTaskAsync(collections);
        await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1, 300), Deadline);
        await Source.InsertDeleteReinsertAsync("authors", Scenario.Keys(1, 300), Deadline);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);

        await App.Host.Scenario(s =>
        {
            s.PostEnvelope("pause", new { task_id = taskId });
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal("Paused", (await Scenario.GetTaskAsync(Cdc, taskId)).State);
        await Scenario.EventuallyAsync(() => !Replicates(taskId), () => "the paused task's replication to stop");
        await Task.Delay(300, Deadline); // the worker cancels the run right after it lets go of it

        var beforePause = collections.ToDictionary(c => c, c => Scenario.TargetRows(Target, c));
        await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1001, 300), Deadline);
        await Source.InsertDeleteReinsertAsync("authors", Scenario.Keys(1001, 300), Deadline);
        await Source.DeleteAsync("books", Scenario.Keys(1, 10), Deadline);
        for (var i = 0; i < 10; i++)
        {
            await Source.TickAsync(Deadline);
            await Task.Delay(200, Deadline);
        }

        // Two seconds of ticks later, nothing written while paused is on the target.
        foreach (var collection in collections) Assert.Equal(beforePause[collection], Scenario.TargetRows(Target, collection));
        Assert.Equal("Paused", (await Scenario.GetTaskAsync(Cdc, taskId)).State);

        await App.Host.Scenario(s =>
        {
            s.PostEnvelope("resume", new { task_id = taskId });
            s.StatusCodeShouldBeOk();
        });
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);
        Assert.Equal("Running", (await Scenario.GetTaskAsync(Cdc, taskId)).State);

        // Rows written after the resume arrive too, and what was caught up stays as the source has it.
        await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(2001, 60), Deadline);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);
    }
}
