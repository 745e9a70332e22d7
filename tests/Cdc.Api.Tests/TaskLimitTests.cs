using Cdc.Testing;

namespace Cdc.Api.Tests;

public sealed class TaskLimitTests
{
    [Fact]
    public async Task Fifty_concurrent_creates_with_maxTaskNum_10_leave_exactly_10_tasks()
    {
        await using var app = await CdcApp.StartAsync(new Dictionary<string, string> { ["maxTaskNum"] = "10" });

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => app.PostAsync("create", CdcApp.SeedCreate())));

        Assert.Equal(10, results.Count(r => r.Status == 200));
        Assert.All(results.Where(r => r.Status != 200), r =>
        {
            Assert.Equal(500, r.Status);
            Assert.Equal("fail to handle the create request, error: the task num has reach the limit, 10", r.Body["message"]!.GetValue<string>());
        });
        var (_, list) = await app.PostAsync("list");
        Assert.Equal(10, list["data"]!["tasks"]!.AsArray().Count);
        Assert.Equal(10, await CreateErrorTests.HighWaterMarkAsync(app));

        // Deleting one frees a slot.
        var id = list["data"]!["tasks"]![0]!["task_id"]!.GetValue<string>();
        Assert.Equal(200, (await app.PostAsync("delete", new { task_id = id })).Status);
        Assert.Equal(200, (await app.PostAsync("create", CdcApp.SeedCreate())).Status);
        Assert.Equal(500, (await app.PostAsync("create", CdcApp.SeedCreate())).Status);
    }
}
