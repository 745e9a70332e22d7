using Cdc.Application.Metrics;
using Cdc.Infrastructure.Metrics;
using Cdc.Testing;
using Cdc.Testing.Metrics;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Tests.Metrics;

public sealed class CdcReplicationMetricsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static async Task<IReadOnlyList<ParsedFamily>> ScrapeAsync(MetricsRegistry registry, params IMetricsCollector[] collectors) =>
        ExpositionParser.Parse(await new MetricsScraper(registry, collectors, TimeProvider.System, NullLogger<MetricsScraper>.Instance).ScrapeAsync(CancellationToken.None));

    [Fact]
    public async Task The_engine_calls_give_the_reference_metrics()
    {
        var registry = new MetricsRegistry();
        var metrics = new CdcReplicationMetrics(registry, new ManualTimeProvider(Now));
        ICdcMetrics port = metrics;
        port.ReplicateTimeTick("t1", "by-dev-rootcoord-dml_0_1v0", ReplicateOperation.Read, 1000);
        port.ReplicatedData("t1", "by-dev-rootcoord-dml_0_1v0", ReplicateOperation.Write, "Insert", 300);
        port.ReplicatedData("t1", "by-dev-rootcoord-dml_0_1v0", ReplicateOperation.Write, "Insert", 200);
        port.ReplicatedRows("t1", 4455, "books \"old\"", ReplicateOperation.Write, "insert", 10);
        port.ApiExecuted("t1", "CreateCollection");
        port.BufferFill("t1", "by-dev-rootcoord-dml_0", 4096, 3);
        port.SourceTimeTick("by-dev-rootcoord-dml_0", 2000);

        var families = (await ScrapeAsync(registry, metrics)).ToDictionary(f => f.Name);

        var tt = families["milvus_cdc_replicate_tt"].Samples.Single();
        Assert.Equal(("t1", "by-dev-rootcoord-dml_0_1v0", "read", 1000.0), (tt.Label("task_id"), tt.Label("vchannel_name"), tt.Label("op_type"), tt.Value));
        var size = families["milvus_cdc_replicate_data_size"].Samples.Single();
        Assert.Equal(("write", "Insert", 500.0), (size.Label("op_type"), size.Label("msg_type"), size.Value));
        Assert.Equal("counter", families["milvus_cdc_replicate_data_size"].Type);
        var rows = families["milvus_cdc_replicate_data_cnt"].Samples.Single();
        Assert.Equal(("4455", "books \"old\"", "insert", 10.0), (rows.Label("collection_id"), rows.Label("collection_name"), rows.Label("api_type"), rows.Value));
        Assert.Equal(1, families["milvus_cdc_api_execute_total"].Samples.Single(s => s.Label("api_type") == "CreateCollection").Value);
        Assert.Equal(4096, families["milvus_cdc_buffer_bytes"].Samples.Single().Value);
        Assert.Equal(3, families["milvus_cdc_buffer_messages"].Samples.Single().Value);
        Assert.Equal(2000, families["milvus_cdc_center_tt"].Samples.Single(s => s.Label("channel_name") == "by-dev-rootcoord-dml_0").Value);
        Assert.False(families.ContainsKey(CdcReplicationMetrics.LagName)); // nothing written yet
    }

    [Fact]
    public async Task The_lag_is_now_minus_the_last_written_time_tick_and_grows_while_stalled()
    {
        var registry = new MetricsRegistry();
        var clock = new ManualTimeProvider(Now);
        var metrics = new CdcReplicationMetrics(registry, clock);
        metrics.ReplicateTimeTick("t1", "ch1", ReplicateOperation.Write, Now.ToUnixTimeMilliseconds() - 250);
        metrics.ReplicateTimeTick("t1", "ch2", ReplicateOperation.Read, Now.ToUnixTimeMilliseconds() - 9999);
        metrics.ReplicateTimeTick("t2", "ch1", ReplicateOperation.Write, Now.ToUnixTimeMilliseconds() + 50);

        var lag = (await ScrapeAsync(registry, metrics)).Single(f => f.Name == CdcReplicationMetrics.LagName);
        Assert.Equal("gauge", lag.Type);
        Assert.Equal([("t1", "ch1", 250.0), ("t2", "ch1", 0.0)], lag.Samples.Select(s => (s.Label("task_id"), s.Label("channel"), s.Value)));

        clock.Advance(TimeSpan.FromSeconds(3));
        lag = (await ScrapeAsync(registry, metrics)).Single(f => f.Name == CdcReplicationMetrics.LagName);
        Assert.Equal(3250, lag.Samples.Single(s => s.Label("task_id") == "t1").Value);
    }

    [Fact]
    public async Task Forgetting_a_task_drops_its_series_only()
    {
        var registry = new MetricsRegistry();
        var metrics = new CdcReplicationMetrics(registry, new ManualTimeProvider(Now));
        foreach (var task in new[] { "t1", "t2" })
        {
            metrics.ReplicateTimeTick(task, "ch", ReplicateOperation.Write, 1);
            metrics.ReplicatedData(task, "ch", ReplicateOperation.Write, "Delete", 1);
            metrics.ReplicatedRows(task, 1, "c", ReplicateOperation.Write, "delete", 1);
            metrics.ApiExecuted(task, "Flush");
            metrics.BufferFill(task, "ch", 1, 1);
        }
        metrics.ForgetTask("t1");

        var families = await ScrapeAsync(registry, metrics);
        var taskIds = families.SelectMany(f => f.Samples).Select(s => s.Label("task_id")).Distinct();
        Assert.Equal(["t2"], taskIds);
        Assert.Equal(7, families.Count); // tt, size, cnt, api, buffer bytes and messages, lag
    }

    [Fact]
    public async Task A_failing_collector_is_left_out_and_the_rest_is_served()
    {
        var registry = new MetricsRegistry();
        registry.Counter("kept_total", "h").WithLabels().Inc();
        var families = await ScrapeAsync(registry, new FailingCollector());
        Assert.Equal(["kept_total"], families.Select(f => f.Name));
    }

    private sealed class FailingCollector : IMetricsCollector
    {
        public string Name => "failing";

        public Task<IReadOnlyList<MetricFamilySnapshot>> CollectAsync(CancellationToken cancellationToken) =>
            throw new TimeoutException("the database did not answer");
    }
}
