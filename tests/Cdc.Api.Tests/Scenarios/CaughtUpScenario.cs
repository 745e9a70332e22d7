using System.Globalization;
using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing.Metrics;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves what get, list and /cdc/metrics say about a task having caught up with its source: a task created while the
/// source holds a backlog that cannot reach the target yet (it is unreachable) is not caught up; the moment get says
/// caught_up, the target holds every row the source held, and get and list show since when (RFC 3339, UTC); rows
/// written later that cannot reach the target take it back to not caught up, and once they are on the target it is
/// caught up again, since a later time.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class CaughtUpScenario() : InProcessScenario("caughtup")
{
    [Fact]
    public async Task A_task_is_caught_up_only_while_the_target_has_what_the_source_held()
    {
        await StartServerAsync(SourceMilvusVersion.V2_4, "books");
        await Source.InsertAsync("books", Scenario.Keys(1, 300), Deadline);
        await Source.TickAsync(Deadline);
        var backlogWritten = DateTimeOffset.UtcNow;

        // The backlog waits: the target is unreachable when the task starts from the earliest message.
        await Target.StopListeningAsync();
        var taskId = await Scenario.CreateTaskAsync(Cdc, Target, startFrom: "earliest");
        var waiting = await WaitForAsync(taskId, t => t["caught_up"] is not null && t["health"]?["status"]?.GetValue<string>() == "retrying",
            "the task retrying the unreachable target");
        Assert.False(waiting["caught_up"]!.GetValue<bool>(), waiting.ToJsonString());
        Assert.Null(waiting["caught_up_since"]);

        await Target.StartListeningAsync(Deadline);
        var caughtUp = await WaitForAsync(taskId, CaughtUp, "get to say caught_up");
        Assert.Equal(Source.Rows("books"), Scenario.TargetRows(Target, "books")); // all of it, the moment get says so
        var since = Time(caughtUp, "caught_up_since");
        Assert.True(Time(caughtUp, "caught_up_as_of") >= backlogWritten, caughtUp.ToJsonString());

        // list says the same, and the metric is 1 (the source is quiet, so it stays caught up).
        await Scenario.EventuallyAsync(async () => (await ListedAsync(taskId)) is { } listed && CaughtUp(listed) && Time(listed, "caught_up_since") == since,
            () => "list to say caught_up since " + since.ToString("O", CultureInfo.InvariantCulture));
        await Scenario.EventuallyAsync(async () => await CaughtUpMetricAsync(taskId) == 1, () => "milvus_cdc_task_caught_up 1");

        // New rows that cannot reach the target: not caught up until they are on it.
        await Target.StopListeningAsync();
        await Source.InsertAsync("books", Scenario.Keys(1001, 200), Deadline);
        await Source.TickAsync(Deadline);
        var rowsWritten = DateTimeOffset.UtcNow;
        var behind = await WaitForAsync(taskId, t => t["caught_up"]?.GetValue<bool>() == false, "get to say not caught up after new rows");
        Assert.Null(behind["caught_up_since"]);
        Assert.Equal(0d, await CaughtUpMetricAsync(taskId));

        await Target.StartListeningAsync(Deadline);
        var again = await WaitForAsync(taskId, CaughtUp, "get to say caught_up again");
        Assert.Equal(Source.Rows("books"), Scenario.TargetRows(Target, "books"));
        Assert.True(Time(again, "caught_up_since") > since, again.ToJsonString());
        Assert.True(Time(again, "caught_up_as_of") >= rowsWritten, again.ToJsonString());
    }

    private static bool CaughtUp(JsonNode task) => task["caught_up"]?.GetValue<bool>() == true;

    /// <summary>A time of the task JSON, which must be RFC 3339 in UTC.</summary>
    private static DateTimeOffset Time(JsonNode task, string key)
    {
        var text = task[key]?.GetValue<string>();
        Assert.True(text is not null, $"no {key} in {task.ToJsonString()}");
        var time = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.True(time.Offset == TimeSpan.Zero, $"{key} {text} is not in UTC");
        return time;
    }

    /// <summary>Polls get until the task satisfies <paramref name="condition"/>; returns that answer's task.</summary>
    private async Task<JsonNode> WaitForAsync(string taskId, Func<JsonNode, bool> condition, string what)
    {
        JsonNode? task = null;
        await Scenario.EventuallyAsync(async () =>
        {
            var (status, body) = await Cdc("get", new { task_id = taskId });
            Assert.True(status == 200, $"get answered {status}: {body.ToJsonString()}");
            task = body["data"]!["Task"]!;
            return condition(task);
        }, () => $"{what}; get said {task?.ToJsonString()}");
        return task!;
    }

    private async Task<JsonNode?> ListedAsync(string taskId)
    {
        var (_, body) = await Cdc("list", new { });
        return body["data"]!["tasks"]!.AsArray().SingleOrDefault(t => t!["task_id"]!.GetValue<string>() == taskId);
    }

    /// <summary>The task's <c>milvus_cdc_task_caught_up</c> in a scrape of /cdc/metrics; null when it has no series.</summary>
    private async Task<double?> CaughtUpMetricAsync(string taskId)
    {
        var scrape = await App.Host.Scenario(s => s.Get.Url("/cdc/metrics"));
        return ExpositionParser.Parse(await scrape.ReadAsTextAsync())
            .SingleOrDefault(f => f.Name == "milvus_cdc_task_caught_up")?.Samples.SingleOrDefault(s => s.Label("task_id") == taskId)?.Value;
    }
}
