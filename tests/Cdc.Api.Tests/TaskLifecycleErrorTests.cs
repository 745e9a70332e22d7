using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>Commands on unknown tasks and commands the task's state does not allow.</summary>
public sealed class TaskLifecycleErrorTests(SharedApp shared) : IClassFixture<SharedApp>
{
    [Theory]
    [InlineData("pause", "not found the task, task_id: 0123456789abcdef0123456789abcdef")]
    [InlineData("resume", "not found the task, task_id: 0123456789abcdef0123456789abcdef")]
    [InlineData("delete", "not found the task, task_id: 0123456789abcdef0123456789abcdef")]
    [InlineData("get", "not found: [0123456789abcdef0123456789abcdef]")]
    public async Task An_unknown_task_id_is_a_400_naming_the_id(string type, string message)
    {
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope(type, new { task_id = "0123456789abcdef0123456789abcdef" });
            s.StatusCodeShouldBe(400);
            s.JsonPath("$.message").ShouldBe($"fail to handle the {type} request, error: {message}");
        });
    }

    [Fact]
    public async Task Delete_with_ignore_not_found_succeeds_for_an_unknown_id()
    {
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("delete", new { task_id = "nope", ignore_not_found = true });
            s.StatusCodeShouldBeOk();
            s.JsonPath("$").ShouldBe(JsonNode.Parse("""{"code":200,"data":{}}"""));
        });
    }

    [Fact]
    public async Task Pausing_a_paused_task_and_resuming_a_running_one_are_refused()
    {
        var id = await shared.App.CreateSeedTaskAsync();
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("resume", new { task_id = id });
            s.StatusCodeShouldBe(400);
            s.JsonPath("$.message").ShouldBe($"fail to handle the resume request, error: the task has running, task_id: {id}");
        });

        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("pause", new { task_id = id });
            s.StatusCodeShouldBeOk();
        });
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("pause", new { task_id = id });
            s.StatusCodeShouldBe(400);
            s.JsonPath("$.message").ShouldBe($"fail to handle the pause request, error: the task has paused, task_id: {id}");
        });
    }

    [Fact]
    public async Task A_deleted_task_takes_no_more_commands()
    {
        var id = await shared.App.CreateSeedTaskAsync();
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("delete", new { task_id = id });
            s.StatusCodeShouldBeOk();
        });
        foreach (var type in new[] { "pause", "resume", "delete", "get" })
        {
            await shared.App.Host.Scenario(s =>
            {
                s.PostEnvelope(type, new { task_id = id });
                s.StatusCodeShouldBe(400);
            });
        }
    }

    [Fact]
    public async Task Two_concurrent_pauses_one_wins_the_other_gets_a_clear_error()
    {
        for (var round = 0; round < 5; round++)
        {
            var id = await shared.App.CreateSeedTaskAsync();
            // Which of the two wins is only known afterwards: both answers are read whatever their status.
            var results = await Task.WhenAll(
                shared.App.PostAsync("pause", new { task_id = id }),
                shared.App.PostAsync("pause", new { task_id = id }));
            Assert.Single(results, r => r.Status == 200);
            var loser = Assert.Single(results, r => r.Status != 200);
            Assert.True(loser.Status is 400 or 409, loser.Body.ToJsonString());
            Assert.Matches("the task has paused|changed by a concurrent request", loser.Body["message"]!.GetValue<string>());

            var events = await shared.App.Host.Scenario(s => s.Get.Url($"/cdc/tasks/{id}/events"));
            var stream = (await events.ReadAsJsonAsync<JsonObject>())["data"]!["events"]!.AsArray();
            Assert.Equal(["task_created", "task_paused"], stream.Select(e => e!["type"]!.GetValue<string>()));
        }
    }
}
