using System.Text.Json.Nodes;
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
        var answers = new List<string>();
        var (_, created) = await app.PostAsync("create", JsonNode.Parse($$"""
            {"milvus_connect_param":{"uri":"http://localhost:19530","token":"{{Token}}","connect_timeout":10},"collection_infos":[{"name":"*"}]}
            """));
        answers.Add(created.ToJsonString());
        var id = created["data"]!["task_id"]!.GetValue<string>();
        var (_, second) = await app.PostAsync("create", JsonNode.Parse($$"""
            {"milvus_connect_param":{"uri":"http://localhost:19530","username":"alice","password":"{{Password}}"},"collection_infos":[{"name":"*"}]}
            """));
        answers.Add(second.ToJsonString());
        // A failing create that carries the secret must not echo it either.
        answers.Add((await app.PostAsync("create", JsonNode.Parse($$"""
            {"milvus_connect_param":{"uri":"http://localhost:19530","token":"{{Token}}","connect_timeout":-5},"collection_infos":[{"name":"*"}]}
            """))).Body.ToJsonString());
        answers.Add((await app.PostRawAsync($$"""{"request_type":"create","request_data":{"milvus_connect_param":{"token":"{{Token}}" """)).Body.ToJsonString());

        await app.PostAsync("pause", new { task_id = id });
        answers.Add((await app.PostAsync("get", new { task_id = id })).Body.ToJsonString());
        answers.Add((await app.PostAsync("list")).Body.ToJsonString());
        answers.Add((await app.PostAsync("events", new { task_id = id })).Body.ToJsonString());
        answers.Add((await app.PostAsync("events", new { after = 0, limit = 100 })).Body.ToJsonString());
        answers.Add(await (await app.Client.GetAsync($"/cdc/tasks/{id}/events")).Content.ReadAsStringAsync());
        var feed = await (await app.Client.GetAsync("/cdc/events?after=0&limit=100")).Content.ReadAsStringAsync();
        answers.Add(feed);

        foreach (var answer in answers)
        {
            Assert.DoesNotContain(Token, answer);
            Assert.DoesNotContain(Password, answer);
            Assert.DoesNotContain("alice", answer);
        }
        Assert.Contains("\"token\":\"******\"", feed); // audit shows that a token was set, not what it is
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
}
