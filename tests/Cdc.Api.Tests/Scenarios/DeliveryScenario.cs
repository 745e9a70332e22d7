using Alba;
using Cdc.Testing.Metrics;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>
/// Proves that a task created over HTTP delivers a stream of 10,000 rows written to 2 collections over 4 pchannels
/// completely and in order: every key is inserted, a third deleted and half of those re-inserted, so the target only
/// ends with the source's rows if each key's writes are applied in the order of its channel; and the target receives
/// each key's writes exactly as the source made them, none lost, none twice; with the message properties of a 2.4 and
/// of a 2.5 source.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class DeliveryScenario() : InProcessScenario("delivery")
{
    [Theory]
    [InlineData(SourceMilvusVersion.V2_4)]
    [InlineData(SourceMilvusVersion.V2_5)]
    public async Task Rows_of_two_collections_on_four_channels_arrive_complete_and_in_order(SourceMilvusVersion version)
    {
        string[] collections = ["books", "authors"];
        await StartTaskAsync(version, collections);
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

        // Rows go to the target as they are read, ahead of their tick, so the target can equal the source for a moment
        // while writes that cancel out (a delete and re-insert of the same keys) are still on their way: the writes are
        // compared once they have all arrived, or after 10 s.
        var onSource = Source.Writes;
        IReadOnlyDictionary<(string Collection, long Key), string> onTarget;
        List<string> different;
        for (var attempt = 0; ; attempt++)
        {
            onTarget = Scenario.TargetWrites(Target);
            different = onSource.Where(w => onTarget.GetValueOrDefault(w.Key) != w.Value).Take(5)
                .Select(w => $"{w.Key.Collection}/{w.Key.Key}: source {w.Value}, target {onTarget.GetValueOrDefault(w.Key) ?? "nothing"}").ToList();
            if (different.Count == 0 || attempt >= 100) break;
            await Task.Delay(100, Deadline);
        }

        Assert.True(different.Count == 0, "writes of a key differ: " + string.Join("; ", different));
        Assert.Equal(onSource.Count, onTarget.Count);

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
