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
        var (_, before) = await app.PostAsync("get", new { task_id = id });
        Assert.Null(before["data"]!["Task"]!["health"]);

        var failedAt = DateTimeOffset.UtcNow.AddSeconds(-2);
        await app.Services.GetRequiredService<ITaskRuntimeReports>().ReportAsync(id,
            new TaskRuntimeReport("other-server", "cannot write the pack of by-dev-rootcoord-dml_0: Unavailable", failedAt, null, DateTimeOffset.UtcNow),
            CancellationToken.None);

        var (_, got) = await app.PostAsync("get", new { task_id = id });
        var health = got["data"]!["Task"]!["health"]!;
        Assert.Equal("retrying", health["status"]!.GetValue<string>());
        Assert.Equal("cannot write the pack of by-dev-rootcoord-dml_0: Unavailable", health["last_error"]!.GetValue<string>());
        Assert.Equal(failedAt.ToUnixTimeMilliseconds(), health["last_error_time"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        Assert.Null(health["lag_ms"]); // no checkpoint yet

        var (_, list) = await app.PostAsync("list", new { });
        var listed = list["data"]!["tasks"]!.AsArray().Single(t => t!["task_id"]!.GetValue<string>() == id)!;
        Assert.Equal("retrying", listed["health"]!["status"]!.GetValue<string>());

        await app.PostAsync("pause", new { task_id = id });
        (_, got) = await app.PostAsync("get", new { task_id = id });
        Assert.Equal("paused", got["data"]!["Task"]!["health"]!["status"]!.GetValue<string>());
    }
}
