using System.Text.Json.Nodes;
using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>The reference's other create fields are accepted and shown back by get.</summary>
public sealed class CreateOptionsTests(SharedApp shared) : IClassFixture<SharedApp>
{
    [Fact]
    public async Task The_deprecated_host_port_form_becomes_a_uri_and_credentials_stay_hidden()
    {
        var (status, created) = await shared.App.PostAsync("create", JsonNode.Parse("""
            {"milvus_connect_param":{"host":"milvus.example","port":19541,"enable_tls":true,"username":"root","password":"Milvus-pw-1","connect_timeout":5},
             "collection_infos":[{"name":"*"}]}
            """));
        Assert.Equal(200, status);
        var task = await GetAsync(created["data"]!["task_id"]!.GetValue<string>());
        var target = task["milvus_connect_param"]!.AsObject();
        Assert.Equal("https://milvus.example:19541", target["uri"]!.GetValue<string>());
        Assert.Equal(19541, target["port"]!.GetValue<int>());
        Assert.Equal("milvus.example", target["host"]!.GetValue<string>());
        Assert.True(target["enable_tls"]!.GetValue<bool>());
        Assert.Equal(5, target["connect_timeout"]!.GetValue<int>());
        Assert.Null(target["username"]);
        Assert.Null(target["password"]);
        Assert.DoesNotContain("Milvus-pw-1", task.ToJsonString());
    }

    [Fact]
    public async Task Dial_config_db_collections_rpc_channel_and_disable_auto_start_are_kept()
    {
        var (status, created) = await shared.App.PostAsync("create", JsonNode.Parse("""
            {"milvus_connect_param":{"uri":"https://localhost:19530","token":"root:Milvus","connect_timeout":10,
               "dial_config":{"server_name":"localhost","ca_pem_path":"/c/ca.pem","client_pem_path":"/c/client.pem","client_key_path":"/c/client.key"}},
             "db_collections":{"*":[{"name":"*"}]},
             "rpc_channel_info":{"name":"by-dev-replicate-msg"},
             "disable_auto_start":true,
             "positions":{"ignored":"deprecated"}}
            """));
        Assert.Equal(200, status);
        var task = await GetAsync(created["data"]!["task_id"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"server_name":"localhost","ca_pem_path":"/c/ca.pem","client_pem_path":"/c/client.pem","client_key_path":"/c/client.key"}
            """), task["milvus_connect_param"]!["dial_config"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"*":[{"name":"*"}]}"""), task["db_collections"]));
        Assert.Null(task["collection_infos"]);
        Assert.Equal("by-dev-replicate-msg", task["rpc_channel_info"]!["name"]!.GetValue<string>());
        Assert.True(task["disable_auto_start"]!.GetValue<bool>());
        Assert.Null(task["milvus_connect_param"]!["token"]);
    }

    [Fact]
    public async Task Named_collections_a_name_mapping_and_start_from_are_kept_shown_by_get_and_recorded_in_the_created_event()
    {
        var (status, created) = await shared.App.PostAsync("create", JsonNode.Parse("""
            {"milvus_connect_param":{"uri":"http://localhost:19530","connect_timeout":10},
             "db_collections":{"sales":[{"name":"orders"},{"name":"items"}],"hr":[{"name":"*"}]},
             "name_mapping":[{"source_db":"sales","target_db":"sales_dr","collection_mapping":{"orders":"orders_2024"}}],
             "start_from":"2026-12-04T10:00:00+02:00"}
            """));
        Assert.Equal(200, status);
        var id = created["data"]!["task_id"]!.GetValue<string>();
        var task = await GetAsync(id);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"sales":[{"name":"orders"},{"name":"items"}],"hr":[{"name":"*"}]}"""), task["db_collections"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"source_db":"sales","target_db":"sales_dr","collection_mapping":{"orders":"orders_2024"}}]"""),
            task["name_mapping"]));
        Assert.Equal("2026-12-04T08:00:00Z", task["start_from"]!.GetValue<string>());

        var events = await CdcApp.ReadAsync(await shared.App.Client.GetAsync($"/cdc/tasks/{id}/events"));
        var definition = events["data"]!["events"]![0]!["data"]!["definition"]!;
        Assert.Equal("sales_dr", definition["name_mappings"]![0]!["target_db"]!.GetValue<string>());
        Assert.Equal("Time", definition["start"]!["kind"]!.GetValue<string>());

        // the default start is not shown
        var (_, plain) = await shared.App.PostAsync("create", CdcApp.SeedCreate());
        var plainTask = await GetAsync(plain["data"]!["task_id"]!.GetValue<string>());
        Assert.Null(plainTask["start_from"]);
        Assert.Null(plainTask["name_mapping"]);
    }

    [Fact]
    public async Task A_caller_chosen_task_id_is_used_and_a_repeated_create_is_idempotent()
    {
        var data = CdcApp.SeedCreate();
        data["task_id"] = "dr-task-1";
        var (s1, first) = await shared.App.PostAsync("create", data);
        var (s2, second) = await shared.App.PostAsync("create", data.DeepClone());
        Assert.Equal((200, 200), (s1, s2));
        Assert.Equal("dr-task-1", first["data"]!["task_id"]!.GetValue<string>());
        Assert.Equal("dr-task-1", second["data"]!["task_id"]!.GetValue<string>());
        var events = await CdcApp.ReadAsync(await shared.App.Client.GetAsync("/cdc/tasks/dr-task-1/events"));
        Assert.Single(events["data"]!["events"]!.AsArray());

        Assert.Equal(200, (await shared.App.PostAsync("delete", new { task_id = "dr-task-1" })).Status);
        var (s3, reused) = await shared.App.PostAsync("create", data.DeepClone());
        Assert.Equal(400, s3);
        Assert.Contains("task_id: the task id dr-task-1 belonged to a task that was deleted", reused["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Keys_match_case_insensitively_and_unknown_keys_are_ignored()
    {
        var (status, created) = await shared.App.PostRawAsync("""
            {"Request_Type":"create","request_data":{"Milvus_Connect_Param":{"URI":"http://h:19530","Connect_Timeout":3},
             "collection_infos":[{"name":"*","future_option":1}],"something_new":{"x":1}}}
            """);
        Assert.Equal(200, status);
        var task = await GetAsync(created["data"]!["task_id"]!.GetValue<string>());
        Assert.Equal("http://h:19530", task["milvus_connect_param"]!["uri"]!.GetValue<string>());
        Assert.Equal(3, task["milvus_connect_param"]!["connect_timeout"]!.GetValue<int>());
    }

    [Fact]
    public async Task Position_is_empty_for_a_task_that_has_not_replicated_yet()
    {
        var id = await shared.App.CreateSeedTaskAsync();
        var (status, body) = await shared.App.PostAsync("position", new { task_id = id });
        Assert.Equal(200, status);
        Assert.Empty(body["data"]!["positions"]!.AsArray());
        Assert.Null((await GetAsync(id))["position"]);
    }

    private async Task<JsonObject> GetAsync(string id)
    {
        var (status, body) = await shared.App.PostAsync("get", new { task_id = id });
        Assert.Equal(200, status);
        return body["data"]!["Task"]!.AsObject();
    }
}
