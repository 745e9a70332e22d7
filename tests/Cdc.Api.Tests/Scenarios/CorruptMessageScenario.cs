using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that a message the task cannot decode (garbage bytes carrying an Insert's message properties) on a DML
/// channel pauses the task with a reason naming the channel and the position, which get shows, and that the server
/// keeps answering: other requests work and the target holds the rows delivered before the bad message. Resume reads
/// the bad message again and pauses again with the same reason; on a Kafka source (the reason names the offset) and on
/// a Pulsar one (the garbage inside a ZSTD batch of one, as Milvus writes; the reason names the MessageIdData).
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class CorruptMessageScenario() : InProcessScenario("corrupt")
{
    [Theory]
    [InlineData(SourceQueueKind.Kafka)]
    [InlineData(SourceQueueKind.Pulsar)]
    public async Task A_corrupt_message_pauses_the_task_with_channel_and_position_in_the_reason(SourceQueueKind queue)
    {
        string[] collections = ["books"];
        var taskId = await StartTaskAsync(SourceMilvusVersion.V2_4, queue, collections);
        await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1, 100), Deadline);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);

        var pchannel = Source["books"].PhysicalChannels[0];
        var id = await Source.Queue.Writer.WriteAsync(pchannel, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x12, 0x03],
            new Dictionary<string, string> { ["msg_type"] = "Insert" }, Deadline);
        await Source.TickAsync(Deadline);

        var reason = await Scenario.PausedReasonAsync(Cdc, taskId, "the task paused by the corrupt message");
        Assert.StartsWith("fail to handle replicate message, err: ", reason);
        Assert.Contains(pchannel, reason);
        Assert.Contains(SourceQueue.PositionText(id), reason);

        // The server keeps answering, and the rows before the bad message stay delivered.
        var list = await App.Host.Scenario(s =>
        {
            s.PostEnvelope("list", new { });
            s.StatusCodeShouldBeOk();
        });
        Assert.Contains((await list.ReadAsJsonAsync<JsonObject>())["data"]!["tasks"]!.AsArray(),
            t => t!["task_id"]!.GetValue<string>() == taskId && t["state"]!.GetValue<string>() == "Paused");
        await App.Host.Scenario(s => s.Get.Url("/healthz"));
        Assert.Equal(Source.Rows("books"), Scenario.TargetRows(Target, "books"));

        // Resume does not skip the bad message: the task reads it again and pauses again with the same reason.
        await App.Host.Scenario(s =>
        {
            s.PostEnvelope("resume", new { task_id = taskId });
            s.StatusCodeShouldBeOk();
        });
        var again = await Scenario.PausedReasonAsync(Cdc, taskId, "the resumed task paused again by the corrupt message", TimeSpan.FromSeconds(20));
        Assert.Equal(reason, again);
        Assert.Equal(Source.Rows("books"), Scenario.TargetRows(Target, "books"));

        var other = await Scenario.CreateTaskAsync(Cdc, Target);
        Assert.Equal("Running", (await Scenario.GetTaskAsync(Cdc, other)).State);
    }
}
