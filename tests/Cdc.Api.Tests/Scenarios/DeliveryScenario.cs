using Alba;
using Cdc.Testing.Metrics;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that a task created over HTTP delivers a stream of 10,000 rows written to 2 collections over 4 pchannels
/// completely and in order: every key is inserted, a third deleted and half of those re-inserted, so the target only
/// ends with the source's rows if each key's writes are applied in the order of its channel; and the target receives
/// each key's writes exactly as the source made them, none lost, none twice; with the message properties of a 2.4 and
/// of a 2.5 source, in Kafka and in Pulsar (as Milvus writes there: ZSTD batches of one, the properties inside).
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class DeliveryScenario() : InProcessScenario("delivery")
{
    [Theory]
    [InlineData(SourceQueueKind.Kafka, SourceMilvusVersion.V2_4)]
    [InlineData(SourceQueueKind.Kafka, SourceMilvusVersion.V2_5)]
    [InlineData(SourceQueueKind.Pulsar, SourceMilvusVersion.V2_4)]
    [InlineData(SourceQueueKind.Pulsar, SourceMilvusVersion.V2_5)]
    public async Task Rows_of_two_collections_on_four_channels_arrive_complete_and_in_order(SourceQueueKind queue, SourceMilvusVersion version)
    {
        string[] collections = ["books", "authors"];
        await StartTaskAsync(version, queue, collections);
        Assert.Equal(ScenarioSource.DmlChannels,
            collections.SelectMany(c => Source[c].PhysicalChannels).Distinct(StringComparer.Ordinal).Count());

        const int rounds = 10, perRound = 500;
        for (var round = 0; round < rounds; round++)
        {
            await Source.InsertDeleteReinsertAsync("books", Scenario.Keys(1 + round * perRound, perRound), Deadline);
            await Source.InsertDeleteReinsertAsync("authors", Scenario.Keys(1_000_001 + round * perRound, perRound), Deadline);
            await Source.TickAsync(Deadline);
        }

        var inserted = Source.Writes.Count;
        Assert.Equal(rounds * perRound * collections.Length, inserted);
        await Scenario.TargetEqualsSourceAsync(Target, Source, collections);
        Assert.Equal(rounds * perRound - rounds * perRound / 3 + rounds * perRound / 6, Source.Rows("books").Count);

        var onSource = Source.Writes;
        await Scenario.AssertWritesAsOnSourceAsync(Target, Source, Deadline);

        // What /cdc/metrics says was written is what the target received: every insert and delete row, once.
        (double Inserts, double Deletes) expected = (onSource.Values.Sum(w => w.Count(c => c == 'I')), onSource.Values.Sum(w => w.Count(c => c == 'D')));
        (double Inserts, double Deletes) scraped = default;
        for (var attempt = 0; attempt < 50 && scraped != expected; attempt++)
        {
            if (attempt > 0) await Task.Delay(100, Deadline);
            var scrape = await App.Host.Scenario(s => s.Get.Url("/cdc/metrics"));
            var rows = ExpositionParser.Parse(await scrape.ReadAsTextAsync())
                .Single(f => f.Name == "milvus_cdc_replicate_data_cnt").Samples.Where(r => r.Label("op_type") == "write").ToList();
            scraped = (rows.Where(r => r.Label("api_type") == "insert").Sum(r => r.Value), rows.Where(r => r.Label("api_type") == "delete").Sum(r => r.Value));
        }

        Assert.Equal(expected, scraped);
    }
}
