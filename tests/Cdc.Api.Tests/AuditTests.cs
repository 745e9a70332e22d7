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
        await app.PostAsync("pause", new { task_id = a });
        await app.PostAsync("resume", new { task_id = a });
        await app.PostAsync("delete", new { task_id = a });

        var stream = (await CdcApp.ReadAsync(await app.Client.GetAsync($"/cdc/tasks/{a}/events")))["data"]!["events"]!.AsArray();
        Assert.Equal(["task_created", "task_paused", "task_resumed", "task_deleted"], stream.Select(e => e!["type"]!.GetValue<string>()));
        Assert.Equal([1L, 2, 3, 4], stream.Select(e => e!["version"]!.GetValue<long>()));
        Assert.Equal("manually pause through http interface", stream[1]!["data"]!["reason"]!.GetValue<string>());
        Assert.All(stream, e => Assert.True(DateTimeOffset.Parse(e!["timestamp"]!.GetValue<string>()) > DateTimeOffset.UtcNow.AddMinutes(-5)));

        // the feed in pages of two, continuing from "next"
        var seen = new List<(long Seq, string Stream, string Type)>();
        long after = 0;
        while (true)
        {
            var page = (await CdcApp.ReadAsync(await app.Client.GetAsync($"/cdc/events?after={after}&limit=2")))["data"]!;
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
        var (status, body) = await app.PostAsync("events", new { after = 3, limit = 10 });
        Assert.Equal(200, status);
        Assert.Equal([4L, 5], body["data"]!["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Bad_feed_queries_name_the_parameter()
    {
        await using var app = await CdcApp.StartAsync();
        var response = await app.Client.GetAsync("/cdc/events?after=abc");
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("after: expected a whole number", (await CdcApp.ReadAsync(response))["message"]!.GetValue<string>());
        response = await app.Client.GetAsync("/cdc/events?after=-1");
        Assert.Contains("after: must be 0 or more", (await CdcApp.ReadAsync(response))["message"]!.GetValue<string>());
        response = await app.Client.GetAsync("/cdc/tasks/unknown/events");
        Assert.Equal(400, (int)response.StatusCode);
    }
}
