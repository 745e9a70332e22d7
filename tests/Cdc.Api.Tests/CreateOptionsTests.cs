using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>The reference's other create fields are accepted and shown back by get.</summary>
public sealed class CreateOptionsTests(SharedApp shared) : IClassFixture<SharedApp>
{
    [Fact]
    public async Task The_deprecated_host_port_form_becomes_a_uri_and_credentials_stay_hidden()
    {
        var id = await shared.App.CreateTaskAsync(JsonNode.Parse("""
            {"milvus_connect_param":{"host":"milvus.example","port":19541,"enable_tls":true,"username":"root","password":"Milvus-pw-1","connect_timeout":5},
             "collection_infos":[{"name":"*"}]}
            """)!);
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.milvus_connect_param.uri").ShouldBe("https://milvus.example:19541");
            s.JsonPath("$.data.Task.milvus_connect_param.port").ShouldBe(19541);
            s.JsonPath("$.data.Task.milvus_connect_param.host").ShouldBe("milvus.example");
            s.JsonPath("$.data.Task.milvus_connect_param.enable_tls").ShouldBe(true);
            s.JsonPath("$.data.Task.milvus_connect_param.connect_timeout").ShouldBe(5);
            s.JsonPath("$.data.Task.milvus_connect_param.username").ShouldNotExist();
            s.JsonPath("$.data.Task.milvus_connect_param.password").ShouldNotExist();
            s.ContentShouldNotContain("Milvus-pw-1");
        });
    }

    [Fact]
    public async Task Dial_config_db_collections_rpc_channel_and_disable_auto_start_are_kept()
    {
        var id = await shared.App.CreateTaskAsync(JsonNode.Parse("""
            {"milvus_connect_param":{"uri":"https://localhost:19530","token":"root:Milvus","connect_timeout":10,
               "dial_config":{"server_name":"localhost","ca_pem_path":"c/ca.pem","client_pem_path":"c/client.pem","client_key_path":"c/client.key"}},
             "db_collections":{"*":[{"name":"*"}]},
             "rpc_channel_info":{"name":"by-dev-replicate-msg"},
             "disable_auto_start":true,
             "positions":{"ignored":"deprecated"}}
            """)!);
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.milvus_connect_param.dial_config").ShouldBe(JsonNode.Parse("""
                {"server_name":"localhost","ca_pem_path":"c/ca.pem","client_pem_path":"c/client.pem","client_key_path":"c/client.key"}
                """));
            s.JsonPath("$.data.Task.db_collections").ShouldBe(JsonNode.Parse("""{"*":[{"name":"*"}]}"""));
            s.JsonPath("$.data.Task.collection_infos").ShouldNotExist();
            s.JsonPath("$.data.Task.rpc_channel_info.name").ShouldBe("by-dev-replicate-msg");
            s.JsonPath("$.data.Task.disable_auto_start").ShouldBe(true);
            s.JsonPath("$.data.Task.milvus_connect_param.token").ShouldNotExist();
        });
    }

    [Fact]
    public async Task Named_collections_a_name_mapping_and_start_from_are_kept_shown_by_get_and_recorded_in_the_created_event()
    {
        var id = await shared.App.CreateTaskAsync(JsonNode.Parse("""
            {"milvus_connect_param":{"uri":"http://localhost:19530","connect_timeout":10},
             "db_collections":{"sales":[{"name":"orders"},{"name":"items"}],"hr":[{"name":"*"}]},
             "name_mapping":[{"source_db":"sales","target_db":"sales_dr","collection_mapping":{"orders":"orders_2024"}}],
             "start_from":"2026-12-04T10:00:00+02:00"}
            """)!);
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.db_collections").ShouldBe(JsonNode.Parse("""{"sales":[{"name":"orders"},{"name":"items"}],"hr":[{"name":"*"}]}"""));
            s.JsonPath("$.data.Task.name_mapping").ShouldBe(JsonNode.Parse(
                """[{"source_db":"sales","target_db":"sales_dr","collection_mapping":{"orders":"orders_2024"}}]"""));
            s.JsonPath("$.data.Task.start_from").ShouldBe("2026-12-04T08:00:00Z");
        });
        await shared.App.Host.Scenario(s =>
        {
            s.Get.Url($"/cdc/tasks/{id}/events");
            s.JsonPath("$.data.events[0].data.definition.name_mappings[0].target_db").ShouldBe("sales_dr");
            s.JsonPath("$.data.events[0].data.definition.start.kind").ShouldBe("Time");
        });

        // the default start and no mapping are not shown
        var plain = await shared.App.CreateSeedTaskAsync();
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = plain });
            s.JsonPath("$.data.Task.start_from").ShouldNotExist();
            s.JsonPath("$.data.Task.name_mapping").ShouldNotExist();
        });
    }

    [Fact]
    public async Task A_caller_chosen_task_id_is_used_and_a_repeated_create_is_idempotent()
    {
        var data = CdcApp.SeedCreate();
        data["task_id"] = "dr-task-1";
        for (var attempt = 0; attempt < 2; attempt++)
        {
            await shared.App.Host.Scenario(s =>
            {
                s.PostEnvelope("create", data.DeepClone());
                s.StatusCodeShouldBeOk();
                s.JsonPath("$.data.task_id").ShouldBe("dr-task-1");
            });
        }

        await shared.App.Host.Scenario(s =>
        {
            s.Get.Url("/cdc/tasks/dr-task-1/events");
            s.JsonPath("$.data.events").ShouldHaveCount(1);
        });

        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("delete", new { task_id = "dr-task-1" });
            s.StatusCodeShouldBeOk();
        });
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("create", data.DeepClone());
            s.StatusCodeShouldBe(400);
            s.MessageShouldContain("task_id: the task id dr-task-1 belonged to a task that was deleted");
        });
    }

    [Fact]
    public async Task Keys_match_case_insensitively_and_unknown_keys_are_ignored()
    {
        var created = await shared.App.Host.Scenario(s =>
        {
            s.PostCdc("""
                {"Request_Type":"create","request_data":{"Milvus_Connect_Param":{"URI":"http://h:19530","Connect_Timeout":3},
                 "collection_infos":[{"name":"*","future_option":1}],"something_new":{"x":1}}}
                """);
            s.StatusCodeShouldBeOk();
        });
        var id = (await created.ReadAsJsonAsync<JsonObject>())["data"]!["task_id"]!.GetValue<string>();
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.milvus_connect_param.uri").ShouldBe("http://h:19530");
            s.JsonPath("$.data.Task.milvus_connect_param.connect_timeout").ShouldBe(3);
        });
    }

    [Fact]
    public async Task Position_is_empty_for_a_task_that_has_not_replicated_yet()
    {
        var id = await shared.App.CreateSeedTaskAsync();
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("position", new { task_id = id });
            s.StatusCodeShouldBeOk();
            s.JsonPath("$.data.positions").ShouldHaveCount(0);
        });
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.StatusCodeShouldBeOk();
            s.JsonPath("$.data.Task.position").ShouldNotExist();
        });
    }
}
