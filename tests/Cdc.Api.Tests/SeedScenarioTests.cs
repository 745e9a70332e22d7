using System.Text.Json.Nodes;
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
        var (status, created) = await _app.PostAsync("create", CdcApp.SeedCreate());
        Assert.Equal(200, status);
        Assert.Equal(200, created["code"]!.GetValue<int>());
        var id = created["data"]!["task_id"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Null(created["message"]);

        var expectedTask = JsonNode.Parse($$"""
            {"task_id":"{{id}}","milvus_connect_param":{"uri":"http://localhost:19530","connect_timeout":10},
             "collection_infos":[{"name":"*"}],"state":"Running"}
            """)!;
        var (_, list) = await _app.PostAsync("list");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"code":200,"data":{"tasks":[""" + expectedTask.ToJsonString() + "]}}"), list), list.ToJsonString());

        var (pauseStatus, paused) = await _app.PostAsync("pause", new { task_id = id });
        Assert.Equal(200, pauseStatus);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"code":200,"data":{}}"""), paused), paused.ToJsonString());

        var (_, got) = await _app.PostAsync("get", new { task_id = id });
        var expectedPaused = expectedTask.DeepClone().AsObject();
        expectedPaused["state"] = "Paused";
        expectedPaused["reason"] = "manually pause through http interface";
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["code"] = 200, ["data"] = new JsonObject { ["Task"] = expectedPaused } }, got), got.ToJsonString());

        var (resumeStatus, resumed) = await _app.PostAsync("resume", new { task_id = id });
        Assert.Equal(200, resumeStatus);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"code":200,"data":{}}"""), resumed));
        var (_, afterResume) = await _app.PostAsync("get", new { task_id = id });
        Assert.Equal("Running", afterResume["data"]!["Task"]!["state"]!.GetValue<string>());
        Assert.Null(afterResume["data"]!["Task"]!["reason"]);

        var (deleteStatus, deleted) = await _app.PostAsync("delete", new { task_id = id });
        Assert.Equal(200, deleteStatus);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"code":200,"data":{}}"""), deleted));
        var (_, empty) = await _app.PostAsync("list");
        Assert.Empty(empty["data"]!["tasks"]!.AsArray());
        var (getStatus, gone) = await _app.PostAsync("get", new { task_id = id });
        Assert.Equal(400, getStatus);
        Assert.Contains(id, gone["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_second_server_on_the_same_database_sees_the_tasks_of_its_tenant_only()
    {
        var id = await _app.CreateSeedTaskAsync();
        await _app.PostAsync("pause", new { task_id = id });

        await using (var restarted = await CdcApp.StartAsync(database: _app.Database.Borrow()))
        {
            var (_, got) = await restarted.PostAsync("get", new { task_id = id });
            Assert.Equal("Paused", got["data"]!["Task"]!["state"]!.GetValue<string>());
            Assert.Equal("manually pause through http interface", got["data"]!["Task"]!["reason"]!.GetValue<string>());
        }

        await using var otherTenant = await CdcApp.StartAsync(
            new Dictionary<string, string> { ["metaStoreConfig:rootPath"] = "tenant-b" }, _app.Database.Borrow());
        var (_, list) = await otherTenant.PostAsync("list");
        Assert.Empty(list["data"]!["tasks"]!.AsArray());
        var (status, _) = await otherTenant.PostAsync("pause", new { task_id = id });
        Assert.Equal(400, status);
    }
}
