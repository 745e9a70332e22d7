using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing;

namespace Cdc.Api.Tests;

public sealed class TaskLimitTests
{
    [Fact]
    public async Task Fifty_concurrent_creates_with_maxTaskNum_10_leave_exactly_10_tasks()
    {
        await using var app = await CdcApp.StartAsync(new Dictionary<string, string> { ["maxTaskNum"] = "10" });

        // Which of them succeed is only known afterwards: every answer is read whatever its status.
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => app.PostAsync("create", CdcApp.SeedCreate())));

        Assert.Equal(10, results.Count(r => r.Status == 200));
        Assert.All(results.Where(r => r.Status != 200), r =>
        {
            Assert.Equal(500, r.Status);
            Assert.Equal("fail to handle the create request, error: the task num has reach the limit, 10", r.Body["message"]!.GetValue<string>());
        });
        var list = await app.Host.Scenario(s =>
        {
            s.PostEnvelope("list");
            s.JsonPath("$.data.tasks").ShouldHaveCount(10);
        });
        // The refused creates stored nothing: the audit feed holds one task_created per task. (A refused create used up
        // numbers of the event sequence, which PostgreSQL does not give back; Marten fills them with tombstone rows,
        // which the feed skips, so it does not wait on them and its high-water mark passes them.)
        var feed = await app.Host.Scenario(s => s.Get.Url("/cdc/events?after=0&limit=1000"));
        var events = (await feed.ReadAsJsonAsync<JsonObject>())["data"]!["events"]!.AsArray();
        Assert.Equal(10, events.Count);
        Assert.All(events, e => Assert.Equal("task_created", e!["type"]!.GetValue<string>()));

        // Deleting one frees a slot.
        var id = (await list.ReadAsJsonAsync<JsonObject>())["data"]!["tasks"]![0]!["task_id"]!.GetValue<string>();
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("delete", new { task_id = id });
            s.StatusCodeShouldBeOk();
        });
        await app.CreateSeedTaskAsync();
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("create", CdcApp.SeedCreate());
            s.StatusCodeShouldBe(500);
        });
    }
}
