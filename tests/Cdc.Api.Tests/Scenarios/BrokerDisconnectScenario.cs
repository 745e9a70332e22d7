using Cdc.Testing.FakePulsar;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that a Pulsar source whose broker goes away mid-stream loses nothing and repeats nothing: while rows are
/// being written, the broker first closes every consumer (CLOSE_CONSUMER, as when a topic is unloaded or moves), then
/// cuts the readers' connections; the task stays Running, each reader reconnects and subscribes again after the last
/// message it had, and the target ends with exactly the source's rows, every key's writes once and in order; with the
/// message properties of a 2.4 and of a 2.5 source.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class BrokerDisconnectScenario() : InProcessScenario("disconnect")
{
    [Theory]
    [InlineData(SourceMilvusVersion.V2_4)]
    [InlineData(SourceMilvusVersion.V2_5)]
    public async Task Readers_cut_off_from_the_broker_mid_stream_resume_without_loss_or_repetition(SourceMilvusVersion version)
    {
        string[] collections = ["books", "authors"];
        var taskId = await StartTaskAsync(version, SourceQueueKind.Pulsar, collections);
        var broker = Source.Queue.PulsarBroker!;
        var topics = collections.SelectMany(c => Source[c].PhysicalChannels).Append(Source.ReplicateChannel)
            .Distinct(StringComparer.Ordinal).Select(PulsarTestSource.TopicOf).ToList();
        var readers = broker.Subscribes.Count;
        Assert.Equal(topics.Count, readers);

        // A writer that keeps going through both faults.
        using var stopWriting = CancellationTokenSource.CreateLinkedTokenSource(Deadline);
        var rounds = 0;
        var writer = Task.Run(async () =>
        {
            for (; !stopWriting.IsCancellationRequested; rounds++)
            {
                await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1 + rounds * 60L, 60), Deadline);
                await Source.InsertDeleteReinsertAsync("authors", Scenario.Keys(1 + rounds * 60L, 60), Deadline);
                await Source.TickAsync(Deadline);
                await Task.Delay(20, Deadline);
            }
        }, Deadline);

        await Scenario.EventuallyAsync(() => Scenario.TargetRows(Target, "books").Count > 200, () => "rows on the target before the first fault");
        foreach (var topic in topics) await broker.CloseConsumersAsync(topic);
        await Scenario.EventuallyAsync(() => broker.Subscribes.Count >= 2 * readers, () => $"every reader subscribed again after CLOSE_CONSUMER ({broker.Subscribes.Count} subscriptions)");
        var afterClose = rounds;
        await Scenario.EventuallyAsync(() => rounds >= afterClose + 5, () => "more rounds written after the consumers were closed");

        broker.DropConsumerConnections();
        await Scenario.EventuallyAsync(() => broker.Subscribes.Count >= 3 * readers, () => $"every reader subscribed again after its connection dropped ({broker.Subscribes.Count} subscriptions)");
        var afterDrop = rounds;
        await Scenario.EventuallyAsync(() => rounds >= afterDrop + 5, () => "more rounds written after the connections dropped");
        await stopWriting.CancelAsync();
        await writer; // it ends after its round (its writes take the scenario's deadline, not stopWriting)
        await Source.TickAsync(Deadline);

        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);
        // Every key's writes arrive exactly as the source made them: what a reader had queued when the broker went away
        // is read once (the writes of a delete and re-insert can still be on their way when the rows first match).
        await Scenario.AssertWritesAsOnSourceAsync(Target, Source, Deadline);
        Assert.Equal("Running", (await Scenario.GetTaskAsync(Cdc, taskId)).State);
    }
}
