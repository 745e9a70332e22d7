using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing;
using Npgsql;

namespace Cdc.Api.Tests;

/// <summary>Tokens and passwords: encrypted at rest, absent from every answer, audit record and log line.</summary>
public sealed class SecretTests
{
    private const string Token = "tok-3f9a1c77e2-SECRET";
    private const string Password = "pw-88d21b0c-SECRET";

    [Fact]
    public async Task Secrets_never_leave_the_server_and_are_encrypted_in_the_event_store()
    {
        await using var app = await CdcApp.StartAsync();
        var created = await app.Host.Scenario(s =>
        {
            s.PostEnvelope("create", JsonNode.Parse($$"""
                {"milvus_connect_param":{"uri":"http://localhost:19530","token":"{{Token}}","connect_timeout":10},"collection_infos":[{"name":"*"}]}
                """));
            RevealsNoSecret(s);
        });
        var id = (await created.ReadAsJsonAsync<JsonObject>())["data"]!["task_id"]!.GetValue<string>();
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("create", JsonNode.Parse($$"""
                {"milvus_connect_param":{"uri":"http://localhost:19530","username":"alice","password":"{{Password}}"},"collection_infos":[{"name":"*"}]}
                """));
            RevealsNoSecret(s);
        });
        // A failing create that carries the secret must not echo it either.
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("create", JsonNode.Parse($$"""
                {"milvus_connect_param":{"uri":"http://localhost:19530","token":"{{Token}}","connect_timeout":-5},"collection_infos":[{"name":"*"}]}
                """));
            s.StatusCodeShouldBe(400);
            RevealsNoSecret(s);
        });
        await app.Host.Scenario(s =>
        {
            s.PostCdc($$"""{"request_type":"create","request_data":{"milvus_connect_param":{"token":"{{Token}}" """);
            s.StatusCodeShouldBe(400);
            RevealsNoSecret(s);
        });

        await app.Host.Scenario(s => s.PostEnvelope("pause", new { task_id = id }));
        foreach (var (type, data) in new (string, object)[] { ("get", new { task_id = id }), ("list", new { }), ("events", new { task_id = id }), ("events", new { after = 0, limit = 100 }) })
        {
            await app.Host.Scenario(s =>
            {
                s.PostEnvelope(type, data);
                RevealsNoSecret(s);
            });
        }

        await app.Host.Scenario(s =>
        {
            s.Get.Url($"/cdc/tasks/{id}/events");
            RevealsNoSecret(s);
        });
        await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc/events?after=0&limit=100");
            RevealsNoSecret(s);
            s.ContentShouldContain("\"token\":\"******\""); // audit shows that a token was set, not what it is
        });

        Assert.DoesNotContain(Token, app.Logs.All);
        Assert.DoesNotContain(Password, app.Logs.All);

        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select string_agg(data::text, ' ') from cdc.mt_events", conn);
        var stored = (string)(await cmd.ExecuteScalarAsync())!;
        Assert.DoesNotContain(Token, stored);
        Assert.DoesNotContain(Password, stored);
        Assert.Contains("\"token\": \"v1:", stored);
        await using var views = new NpgsqlCommand("select string_agg(data::text, ' ') from cdc.mt_doc_taskview", conn);
        var viewText = (string)(await views.ExecuteScalarAsync())!;
        Assert.DoesNotContain("v1:", viewText); // the read model holds no credentials at all, not even encrypted
    }

    private static void RevealsNoSecret(Scenario scenario)
    {
        scenario.ContentShouldNotContain(Token);
        scenario.ContentShouldNotContain(Password);
        scenario.ContentShouldNotContain("alice");
    }
}
