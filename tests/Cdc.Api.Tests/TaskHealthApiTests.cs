using System.Text.Json.Nodes;
using Alba;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Tasks;
using Cdc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cdc.Api.Tests;

/// <summary>get and list show a task's health once its replication reported something, and leave it out before.</summary>
public sealed class TaskHealthApiTests
{
    [Fact]
    public async Task The_last_error_reported_by_the_replication_shows_in_get_and_list()
    {
        await using var app = await CdcApp.StartAsync();
        var id = await app.CreateSeedTaskAsync();
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.health").ShouldNotExist();
        });

        var failedAt = DateTimeOffset.UtcNow.AddSeconds(-2);
        await app.Services.GetRequiredService<ITaskRuntimeReports>().ReportAsync(id,
            new TaskRuntimeReport("other-server", "cannot write the pack of by-dev-rootcoord-dml_0: Unavailable", failedAt, null, DateTimeOffset.UtcNow),
            CancellationToken.None);

        var got = await app.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.health.status").ShouldBe("retrying");
            s.JsonPath("$.data.Task.health.last_error").ShouldBe("cannot write the pack of by-dev-rootcoord-dml_0: Unavailable");
            s.JsonPath("$.data.Task.health.lag_ms").ShouldNotExist(); // no checkpoint yet
        });
        var health = (await got.ReadAsJsonAsync<JsonObject>())["data"]!["Task"]!["health"]!;
        Assert.Equal(failedAt.ToUnixTimeMilliseconds(), health["last_error_time"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());

        var list = await app.Host.Scenario(s => s.PostEnvelope("list", new { }));
        var listed = (await list.ReadAsJsonAsync<JsonObject>())["data"]!["tasks"]!.AsArray().Single(t => t!["task_id"]!.GetValue<string>() == id)!;
        Assert.Equal("retrying", listed["health"]!["status"]!.GetValue<string>());

        await app.Host.Scenario(s => s.PostEnvelope("pause", new { task_id = id }));
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("get", new { task_id = id });
            s.JsonPath("$.data.Task.health.status").ShouldBe("paused");
        });
    }
}
