using Alba;
using Cdc.Testing;
using Cdc.Domain.Changes;
using Cdc.Testing.FakePulsar;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that a Pulsar broker sending a frame the reader cannot trust (a wrong CRC-32C, a wrong magic number) pauses
/// the task with a reason naming the channel and the message, and loses nothing: the rows before it stay delivered, and
/// a resumed task reads that message again (sent intact this time) and goes on.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class GarbledFrameScenario() : InProcessScenario("garbled")
{
    [Theory]
    [InlineData(FakePulsarFault.WrongChecksum, "checksum mismatch in MESSAGE {0}")]
    [InlineData(FakePulsarFault.CorruptFrame, "malformed frame MESSAGE {0}: magic number 0x0bad where 0x0e01 was expected")]
    public async Task A_garbled_frame_pauses_the_task_naming_channel_and_message_and_resume_reads_it_again(FakePulsarFault fault, string expected)
    {
        string[] collections = ["books"];
        var taskId = await StartTaskAsync(SourceMilvusVersion.V2_5, SourceQueueKind.Pulsar, collections);
        await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1, 100), Deadline);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);

        // The next Insert on the first shard's pchannel reaches the reader garbled (the frames before it go out intact).
        var pchannel = Source["books"].PhysicalChannels[ScenarioSource.ShardOf(1000)];
        var topic = Source.Queue.PulsarBroker!.Topic(PulsarTestSource.TopicOf(pchannel));
        Source.Queue.PulsarBroker.InjectFault(topic.Name, fault, topic.NextEntryId);
        var garbled = Assert.IsType<PulsarMessageId>(Assert.Single(await Source.InsertAsync("books", [1000], Deadline)).Id);
        await Source.TickAsync(Deadline);

        var reason = await Scenario.PausedReasonAsync(Cdc, taskId, "the task paused by the garbled frame");
        Assert.Contains($"fail to read the source channel {pchannel}", reason);
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, $"{garbled.LedgerId}:{garbled.EntryId}"), reason);
        Assert.Equal(Source.Rows("books").Where(k => k != 1000), Scenario.TargetRows(Target, "books"));

        // Resumed: the broker sends the message intact now; it arrives, and so does what was written after it.
        await App.Host.Scenario(s =>
        {
            s.PostEnvelope("resume", new { task_id = taskId });
            s.StatusCodeShouldBeOk();
        });
        await Source.InsertAsync("books", [1001], Deadline);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);
        Assert.Equal("Running", (await Scenario.GetTaskAsync(Cdc, taskId)).State);
    }
}
