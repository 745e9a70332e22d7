using System.Text.Json.Nodes;
using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>
/// Create's <c>apply_mode</c>: <c>"replicate"</c> (the default, left out of get and list) or <c>"upsert"</c>, kept in the
/// task's definition (TaskCreated) and shown back; anything else is refused naming the field, with nothing stored.
/// </summary>
public sealed class ApplyModeTests(SharedApp shared) : IClassFixture<SharedApp>
{
    [Fact]
    public async Task An_upsert_task_shows_its_mode_in_get_list_and_its_created_event()
    {
        var data = CdcApp.SeedCreate();
        data["apply_mode"] = "upsert";
        var (status, created) = await shared.App.PostAsync("create", data);
        Assert.Equal(200, status);
        var id = created["data"]!["task_id"]!.GetValue<string>();

        var (_, got) = await shared.App.PostAsync("get", new { task_id = id });
        Assert.Equal("upsert", got["data"]!["Task"]!["apply_mode"]!.GetValue<string>());
        var (_, list) = await shared.App.PostAsync("list");
        var listed = list["data"]!["tasks"]!.AsArray().Single(t => t!["task_id"]!.GetValue<string>() == id)!;
        Assert.Equal("upsert", listed["apply_mode"]!.GetValue<string>());

        var events = (await CdcApp.ReadAsync(await shared.App.Client.GetAsync($"/cdc/tasks/{id}/events")))["data"]!["events"]!.AsArray();
        var taskCreated = events.Single(e => e!["type"]!.GetValue<string>() == "task_created")!;
        Assert.Equal("Upsert", taskCreated["data"]!["definition"]!["apply_mode"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_explicit_replicate_mode_is_the_default_and_not_shown()
    {
        var data = CdcApp.SeedCreate();
        data["apply_mode"] = "replicate";
        var (status, created) = await shared.App.PostAsync("create", data);
        Assert.Equal(200, status);
        var (_, got) = await shared.App.PostAsync("get", new { task_id = created["data"]!["task_id"]!.GetValue<string>() });
        var task = got["data"]!["Task"]!.AsObject();
        Assert.False(task.ContainsKey("apply_mode"), task.ToJsonString());
    }

    [Theory]
    [InlineData("\"Upsert\"", "the apply mode must be \"replicate\" (the default) or \"upsert\", got \"Upsert\"")]
    [InlineData("\"bulk\"", "got \"bulk\"")]
    [InlineData("\"\"", "got \"\"")]
    [InlineData("1", "expected a string, got a number")]
    public async Task Another_mode_is_refused_naming_the_field_and_nothing_is_stored(string mode, string problem)
    {
        var before = await CreateErrorTests.HighWaterMarkAsync(shared.App);
        var data = CdcApp.SeedCreate();
        data["apply_mode"] = JsonNode.Parse(mode);

        var (status, body) = await shared.App.PostAsync("create", data);

        Assert.Equal(400, status);
        var message = body["message"]!.GetValue<string>();
        Assert.StartsWith("fail to handle the create request, error: apply_mode: ", message);
        Assert.Contains(problem, message);
        Assert.Equal(before, await CreateErrorTests.HighWaterMarkAsync(shared.App));
    }
}
