using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing;

namespace Cdc.Api.Tests;

public sealed class AuditTests
{
    [Fact]
    public async Task A_tasks_stream_and_the_global_feed_show_every_decision_in_order()
    {
        await using var app = await CdcApp.StartAsync();
        var a = await app.CreateSeedTaskAsync();
        var b = await app.CreateSeedTaskAsync();
        foreach (var command in new[] { "pause", "resume", "delete" })
            await app.Host.Scenario(s => s.PostEnvelope(command, new { task_id = a }));

        var streamResult = await app.Host.Scenario(s =>
        {
            s.Get.Url($"/cdc/tasks/{a}/events");
            s.JsonPath("$.data.events").ShouldHaveCount(4);
            s.JsonPath("$.data.events[1].data.reason").ShouldBe("manually pause through http interface");
        });
        var stream = (await streamResult.ReadAsJsonAsync<JsonObject>())["data"]!["events"]!.AsArray();
        Assert.Equal(["task_created", "task_paused", "task_resumed", "task_deleted"], stream.Select(e => e!["type"]!.GetValue<string>()));
        Assert.Equal([1L, 2, 3, 4], stream.Select(e => e!["version"]!.GetValue<long>()));
        Assert.All(stream, e => Assert.True(DateTimeOffset.Parse(e!["timestamp"]!.GetValue<string>()) > DateTimeOffset.UtcNow.AddMinutes(-5)));

        // the feed in pages of two, continuing from "next"
        var seen = new List<(long Seq, string Stream, string Type)>();
        long after = 0;
        while (true)
        {
            var pageResult = await app.Host.Scenario(s => s.Get.Url($"/cdc/events?after={after}&limit=2"));
            var page = (await pageResult.ReadAsJsonAsync<JsonObject>())["data"]!;
            var events = page["events"]!.AsArray();
            if (events.Count == 0) break;
            Assert.Equal(5, page["high_water_mark"]!.GetValue<long>());
            seen.AddRange(events.Select(e => (e!["seq"]!.GetValue<long>(), e["stream_id"]!.GetValue<string>(), e["type"]!.GetValue<string>())));
            after = page["next"]!.GetValue<long>();
        }
        Assert.Equal([1L, 2, 3, 4, 5], seen.Select(s => s.Seq));
        Assert.Equal((b, "task_created"), (seen[1].Stream, seen[1].Type));
        Assert.Equal("task_deleted", seen[^1].Type);

        // the same feed over POST /cdc
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("events", new { after = 3, limit = 10 });
            s.StatusCodeShouldBeOk();
            s.JsonPath("$.data.events").ShouldHaveCount(2);
            s.JsonPath("$.data.events[0].seq").ShouldBe(4);
            s.JsonPath("$.data.events[1].seq").ShouldBe(5);
        });
    }

    [Fact]
    public async Task Bad_feed_queries_name_the_parameter()
    {
        await using var app = await CdcApp.StartAsync();
        await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc/events?after=abc");
            s.StatusCodeShouldBe(400);
            s.MessageShouldContain("after: expected a whole number");
        });
        await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc/events?after=-1");
            s.StatusCodeShouldBe(400);
            s.MessageShouldContain("after: must be 0 or more");
        });
        await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc/tasks/unknown/events");
            s.StatusCodeShouldBe(400);
        });
    }
}
