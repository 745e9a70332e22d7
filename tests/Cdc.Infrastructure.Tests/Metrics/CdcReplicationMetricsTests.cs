using Cdc.Application.Metrics;
using Cdc.Infrastructure.Metrics;
using Cdc.Testing;
using Cdc.Testing.Metrics;
using Prometheus;

namespace Cdc.Infrastructure.Tests.Metrics;

/// <summary>What the engine reports, scraped from a registry and read back by the test's own exposition parser.</summary>
public sealed class CdcReplicationMetricsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static CollectorRegistry NewRegistry() => Prometheus.Metrics.NewCustomRegistry();

    [Fact]
    public async Task The_engine_calls_give_the_reference_metrics()
    {
        var registry = NewRegistry();
        ICdcMetrics port = new CdcReplicationMetrics(registry, new ManualTimeProvider(Now));
        port.ReplicateTimeTick("t1", "by-dev-rootcoord-dml_0_1v0", ReplicateOperation.Read, 1000);
        port.ReplicatedData("t1", "by-dev-rootcoord-dml_0_1v0", ReplicateOperation.Write, "Insert", 300);
        port.ReplicatedData("t1", "by-dev-rootcoord-dml_0_1v0", ReplicateOperation.Write, "Insert", 200);
        port.ReplicatedRows("t1", 4455, "books", ReplicateOperation.Write, "insert", 10);
        port.ApiExecuted("t1", "CreateCollection");
        port.ReplayedRows("t1", 12);
        port.BufferFill("t1", "by-dev-rootcoord-dml_0", 4096, 3);
        port.SourceTimeTick("by-dev-rootcoord-dml_0", 1732000000123);

        var families = await RegistryScrape.FamiliesAsync(registry);

        var tt = families["milvus_cdc_replicate_tt"];
        Assert.Equal("gauge", tt.Type);
        var read = tt.Samples.Single();
        Assert.Equal(("t1", "by-dev-rootcoord-dml_0_1v0", "read", 1000.0), (read.Label("task_id"), read.Label("vchannel_name"), read.Label("op_type"), read.Value));
        var size = families["milvus_cdc_replicate_data_size"];
        Assert.Equal("counter", size.Type);
        Assert.Equal(("write", "Insert", 500.0), (size.Samples.Single().Label("op_type"), size.Samples.Single().Label("msg_type"), size.Samples.Single().Value));
        var rows = families["milvus_cdc_replicate_data_cnt"].Samples.Single();
        Assert.Equal(("4455", "books", "write", "insert", 10.0),
            (rows.Label("collection_id"), rows.Label("collection_name"), rows.Label("op_type"), rows.Label("api_type"), rows.Value));
        Assert.Equal(1, families["milvus_cdc_api_execute_total"].Samples.Single(s => s.Label("api_type") == "CreateCollection").Value);
        Assert.Equal(12, families["milvus_cdc_replayed_rows_total"].Samples.Single(s => s.Label("task_id") == "t1").Value);
        Assert.Equal(4096, families["milvus_cdc_buffer_bytes"].Samples.Single().Value);
        Assert.Equal(3, families["milvus_cdc_buffer_messages"].Samples.Single().Value);
        Assert.Equal(1732000000123, families["milvus_cdc_center_tt"].Samples.Single(s => s.Label("channel_name") == "by-dev-rootcoord-dml_0").Value);
        Assert.Empty(families[CdcReplicationMetrics.LagName].Samples); // nothing written yet
        Assert.Equal(9, families.Count); // the eight families above and the lag; no library defaults in a registry of our own
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("")]
    [InlineData("back\\slash")]
    [InlineData("double\"quote")]
    [InlineData("new\nline")]
    [InlineData("all \\\" \n \\n together\\")]
    [InlineData("unicode: 集合 ✓")]
    public async Task Label_values_are_read_back_unchanged(string collectionName)
    {
        var registry = NewRegistry();
        var metrics = new CdcReplicationMetrics(registry, new ManualTimeProvider(Now));
        metrics.ReplicatedRows("t1", 1, collectionName, ReplicateOperation.Write, "insert", 1);

        var text = await RegistryScrape.TextAsync(registry);
        var sample = ExpositionParser.Parse(text).Single(f => f.Name == "milvus_cdc_replicate_data_cnt").Samples.Single();

        Assert.Equal(collectionName, sample.Label("collection_name"));
        Assert.Equal("t1", sample.Label("task_id"));
        Assert.Single(text.Split('\n'), l => l.StartsWith("milvus_cdc_replicate_data_cnt{", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_lag_is_now_minus_the_last_written_time_tick_and_grows_while_stalled()
    {
        var registry = NewRegistry();
        var clock = new ManualTimeProvider(Now);
        var metrics = new CdcReplicationMetrics(registry, clock);
        metrics.ReplicateTimeTick("t1", "ch1", ReplicateOperation.Write, Now.ToUnixTimeMilliseconds() - 250);
        metrics.ReplicateTimeTick("t1", "ch2", ReplicateOperation.Read, Now.ToUnixTimeMilliseconds() - 9999);
        metrics.ReplicateTimeTick("t2", "ch1", ReplicateOperation.Write, Now.ToUnixTimeMilliseconds() + 50);

        var lag = (await RegistryScrape.FamiliesAsync(registry))[CdcReplicationMetrics.LagName];
        Assert.Equal("gauge", lag.Type);
        Assert.Equal([("t1", "ch1", 250.0), ("t2", "ch1", 0.0)],
            lag.Samples.Select(s => (s.Label("task_id"), s.Label("channel"), s.Value)).OrderBy(s => s.Item1));

        clock.Advance(TimeSpan.FromSeconds(3));
        lag = (await RegistryScrape.FamiliesAsync(registry))[CdcReplicationMetrics.LagName];
        Assert.Equal(3250, lag.Samples.Single(s => s.Label("task_id") == "t1").Value);

        // A newer tick written brings the lag down at the next scrape.
        metrics.ReplicateTimeTick("t1", "ch1", ReplicateOperation.Write, clock.GetUtcNow().ToUnixTimeMilliseconds() - 40);
        lag = (await RegistryScrape.FamiliesAsync(registry))[CdcReplicationMetrics.LagName];
        Assert.Equal(40, lag.Samples.Single(s => s.Label("task_id") == "t1").Value);
    }

    [Fact]
    public async Task Forgetting_a_task_drops_its_series_only()
    {
        var registry = NewRegistry();
        var metrics = new CdcReplicationMetrics(registry, new ManualTimeProvider(Now));
        foreach (var task in new[] { "t1", "t2" })
        {
            metrics.ReplicateTimeTick(task, "ch", ReplicateOperation.Write, 1);
            metrics.ReplicateTimeTick(task, "ch", ReplicateOperation.Read, 1);
            metrics.ReplicatedData(task, "ch", ReplicateOperation.Write, "Delete", 1);
            metrics.ReplicatedRows(task, 1, "c", ReplicateOperation.Write, "delete", 1);
            metrics.ApiExecuted(task, "Flush");
            metrics.ReplayedRows(task, 1);
            metrics.BufferFill(task, "ch", 1, 1);
        }
        metrics.SourceTimeTick("ch", 1);
        var before = await RegistryScrape.FamiliesAsync(registry); // the lag series of both tasks exist now
        Assert.Equal(["t1", "t2"], before[CdcReplicationMetrics.LagName].Samples.Select(s => s.Label("task_id")).Order());

        metrics.ForgetTask("t1");

        var families = await RegistryScrape.FamiliesAsync(registry);
        var perTask = families.Values.Where(f => f.Name != "milvus_cdc_center_tt").ToList();
        Assert.Equal(8, perTask.Count(f => f.Samples.Count > 0)); // tt, size, cnt, api, replayed, buffer bytes and messages, lag
        Assert.Equal(["t2"], perTask.SelectMany(f => f.Samples).Select(s => s.Label("task_id")).Distinct());
        Assert.Equal(2, families["milvus_cdc_replicate_tt"].Samples.Count); // t2's read and write
        Assert.Single(families["milvus_cdc_center_tt"].Samples); // not a task's series
    }

    [Fact]
    public async Task Registries_do_not_see_each_others_series()
    {
        var first = NewRegistry();
        var second = NewRegistry();
        new CdcReplicationMetrics(first, new ManualTimeProvider(Now)).ApiExecuted("t1", "Flush");
        var other = new CdcReplicationMetrics(second, new ManualTimeProvider(Now));
        other.ApiExecuted("t2", "Flush");
        other.ApiExecuted("t2", "Flush");

        Assert.Equal([("t1", 1.0)], (await RegistryScrape.FamiliesAsync(first))["milvus_cdc_api_execute_total"].Samples.Select(s => (s.Label("task_id"), s.Value)));
        Assert.Equal([("t2", 2.0)], (await RegistryScrape.FamiliesAsync(second))["milvus_cdc_api_execute_total"].Samples.Select(s => (s.Label("task_id"), s.Value)));
    }
}
