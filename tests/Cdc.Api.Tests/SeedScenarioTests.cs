using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>The six calls of the seed documents, answered as the documents show.</summary>
public sealed class SeedScenarioTests : IAsyncLifetime
{
    private CdcApp _app = null!;

    public async Task InitializeAsync() => _app = await CdcApp.StartAsync();
    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Create_list_pause_get_resume_delete_answer_like_the_seed()
    {
        var created = await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("create", CdcApp.SeedCreate());
            s.StatusCodeShouldBeOk();
            s.JsonPath("$.code").ShouldBe(200);
            s.JsonPath("$.message").ShouldNotExist();
        });
        var id = (await created.ReadAsJsonAsync<JsonObject>())["data"]!["task_id"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{32}$", id);

        var expectedTask = JsonNode.Parse($$"""
            {"task_id":"{{id}}","milvus_connect_param":{"uri":"http://localhost:19530","connect_timeout":10},
             "collection_infos":[{"name":"*"}],"state":"Running"}
            """)!;
        await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("list");
            s.JsonPath("$").ShouldBe(JsonNode.Parse("""{"code":200,"data":{"tasks":[""" + expectedTask.ToJsonString() + "]}}"));
        });

        await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("pause", new { task_id = id });
            s.StatusCodeShouldBeOk();
            s.JsonPath("$").ShouldBe(JsonNode.Parse("""{"code":200,"data":{}}"""));
        });

        var expectedPaused = expectedTask.DeepClone().AsObject();
        expectedPaused["state"] = "Paused";
        expectedPaused["reason"] = "manually pause through http interface";
        await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$").ShouldBe(new JsonObject { ["code"] = 200, ["data"] = new JsonObject { ["Task"] = expectedPaused } });
        });

        await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("resume", new { task_id = id });
            s.StatusCodeShouldBeOk();
            s.JsonPath("$").ShouldBe(JsonNode.Parse("""{"code":200,"data":{}}"""));
        });
        await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.state").ShouldBe("Running");
            s.JsonPath("$.data.Task.reason").ShouldNotExist();
        });

        await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("delete", new { task_id = id });
            s.StatusCodeShouldBeOk();
            s.JsonPath("$").ShouldBe(JsonNode.Parse("""{"code":200,"data":{}}"""));
        });
        await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("list");
            s.JsonPath("$.data.tasks").ShouldHaveCount(0);
        });
        await _app.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.StatusCodeShouldBe(400);
            s.MessageShouldContain(id);
        });
    }

    [Fact]
    public async Task A_second_server_on_the_same_database_sees_the_tasks_of_its_tenant_only()
    {
        var id = await _app.CreateSeedTaskAsync();
        await _app.Host.Scenario(s => s.PostEnvelope("pause", new { task_id = id }));

        await using (var restarted = await CdcApp.StartAsync(database: _app.Database.Borrow()))
        {
            await restarted.Host.Scenario(s =>
            {
                s.PostEnvelope("get", new { task_id = id });
                s.JsonPath("$.data.Task.state").ShouldBe("Paused");
                s.JsonPath("$.data.Task.reason").ShouldBe("manually pause through http interface");
            });
        }

        await using var otherTenant = await CdcApp.StartAsync(
            new Dictionary<string, string> { ["metaStoreConfig:rootPath"] = "tenant-b" }, _app.Database.Borrow());
        await otherTenant.Host.Scenario(s =>
        {
            s.PostEnvelope("list");
            s.JsonPath("$.data.tasks").ShouldHaveCount(0);
        });
        await otherTenant.Host.Scenario(s =>
        {
            s.PostEnvelope("pause", new { task_id = id });
            s.StatusCodeShouldBe(400);
        });
    }
}
