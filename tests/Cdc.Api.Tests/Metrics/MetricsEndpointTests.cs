using System.Net;
using Alba;
using Cdc.Application.Metrics;
using Cdc.Testing;
using Cdc.Testing.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Cdc.Api.Tests.Metrics;

/// <summary>GET /cdc/metrics on the real server after a scripted sequence of requests.</summary>
public sealed class MetricsEndpointTests
{
    /// <summary>Prometheus' text exposition format 0.0.4, the reference's.</summary>
    private const string TextFormat004 = "text/plain; version=0.0.4; charset=utf-8";

    private static async Task<Dictionary<string, ParsedFamily>> ScrapeAsync(CdcApp app)
    {
        var result = await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc/metrics");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe(TextFormat004);
        });
        return ExpositionParser.Parse(await result.ReadAsTextAsync()).ToDictionary(f => f.Name);
    }

    [Fact]
    public async Task Request_and_task_metrics_count_exactly_what_was_sent()
    {
        await using var app = await CdcApp.StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(await app.CreateSeedTaskAsync());
        await app.Host.Scenario(s =>
        {
            s.PostCdc("not json");
            s.StatusCodeShouldBe(400);
        });
        await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc");
            s.StatusCodeShouldBe(HttpStatusCode.MethodNotAllowed);
        });
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("pause", new { task_id = ids[0] });
            s.StatusCodeShouldBeOk();
        });
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("pause", new { task_id = ids[0] });
            s.StatusCodeShouldBe(400);
        });
        await app.Host.Scenario(s =>
        {
            s.PostCdc("""{"request_type":"explode"}""");
            s.StatusCodeShouldBe(400);
        });
        await app.Host.Scenario(s =>
        {
            s.PostCdc("""{"request_type":"list"}""", "text/plain");
            s.StatusCodeShouldBe(415);
        });

        var families = await ScrapeAsync(app);

        var requests = families["milvus_cdc_request_total"];
        Assert.Equal("counter", requests.Type);
        var counted = requests.Samples.ToDictionary(s => (s.Label("request_type"), s.Label("request_status")), s => s.Value);
        Assert.Equal(new Dictionary<(string, string), double>
        {
            [("create", "total")] = 3,
            [("create", "success")] = 3,
            [("pause", "total")] = 2,
            [("pause", "success")] = 1,
            [("pause", "fail")] = 1,
            [("unknown", "total")] = 4,
            [("unknown", "unmarshal_error")] = 1,
            [("unknown", "invalid_method")] = 1,
            [("unknown", "fail")] = 1,
            [("unknown", "read_error")] = 1,
        }, counted);

        var latency = families["milvus_cdc_request_latency"];
        Assert.Equal("histogram", latency.Type);
        foreach (var (type, count) in new[] { ("create", 3), ("pause", 2), ("unknown", 4) })
        {
            var series = latency.Samples.Where(s => s.Label("request_type") == type).ToList();
            var buckets = series.Where(s => s.Name == "milvus_cdc_request_latency_bucket").ToList();
            Assert.Equal(["1", "2", "4", "8", "16", "32", "64", "128", "+Inf"], buckets.Select(b => b.Label("le")));
            Assert.Equal(buckets.Select(b => b.Value).Order(), buckets.Select(b => b.Value));
            Assert.Equal(count, buckets[^1].Value);
            Assert.Equal(count, series.Single(s => s.Name == "milvus_cdc_request_latency_count").Value);
            Assert.True(series.Single(s => s.Name == "milvus_cdc_request_latency_sum").Value > 0);
        }

        var taskNum = families["milvus_cdc_task_num"].Samples.ToDictionary(s => s.Label("task_state"), s => s.Value);
        Assert.Equal(new Dictionary<string, double> { ["Initial"] = 0, ["Running"] = 2, ["Paused"] = 1 }, taskNum);
        var states = families["milvus_cdc_task_state"].Samples.ToDictionary(s => s.Label("task_id"), s => s.Value);
        Assert.Equal(new Dictionary<string, double> { [ids[0]] = 2, [ids[1]] = 1, [ids[2]] = 1 }, states);

        // The task metrics follow the store: a delete drops the task from both families.
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("delete", new { task_id = ids[1] });
            s.StatusCodeShouldBeOk();
        });
        families = await ScrapeAsync(app);
        Assert.Equal(1, families["milvus_cdc_task_num"].Samples.Single(s => s.Label("task_state") == "Running").Value);
        Assert.DoesNotContain(families["milvus_cdc_task_state"].Samples, s => s.Label("task_id") == ids[1]);
    }

    [Fact]
    public async Task What_the_engine_reports_is_served_with_the_reference_names()
    {
        await using var app = await CdcApp.StartAsync();
        var metrics = app.Services.GetRequiredService<ICdcMetrics>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        metrics.ReplicateTimeTick("t1", "by-dev-rootcoord-dml_0_1v0", ReplicateOperation.Write, now - 60_000);
        metrics.ReplicatedData("t1", "by-dev-rootcoord-dml_0_1v0", ReplicateOperation.Read, "Insert", 1024);
        metrics.ReplicatedRows("t1", 1, "books", ReplicateOperation.Write, "insert", 7);
        metrics.ApiExecuted("t1", "CreateCollection");
        metrics.BufferFill("t1", "by-dev-rootcoord-dml_0", 2048, 2);
        metrics.SourceTimeTick("by-dev-rootcoord-dml_0", now);

        var families = await ScrapeAsync(app);

        Assert.Equal(now - 60_000, families["milvus_cdc_replicate_tt"].Samples.Single().Value);
        Assert.Equal(1024, families["milvus_cdc_replicate_data_size"].Samples.Single().Value);
        Assert.Equal(7, families["milvus_cdc_replicate_data_cnt"].Samples.Single().Value);
        Assert.Equal(1, families["milvus_cdc_api_execute_total"].Samples.Single().Value);
        Assert.Equal(2048, families["milvus_cdc_buffer_bytes"].Samples.Single().Value);
        Assert.Equal(2, families["milvus_cdc_buffer_messages"].Samples.Single().Value);
        Assert.Equal(now, families["milvus_cdc_center_tt"].Samples.Single().Value);
        var lag = families["milvus_cdc_replicate_lag_ms"].Samples.Single();
        Assert.Equal(("t1", "by-dev-rootcoord-dml_0_1v0"), (lag.Label("task_id"), lag.Label("channel")));
        Assert.InRange(lag.Value, 60_000, 120_000);
    }

    [Fact]
    public async Task A_scraper_asking_for_OpenMetrics_gets_the_text_format_as_from_the_reference()
    {
        await using var app = await CdcApp.StartAsync();
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("list");
            s.StatusCodeShouldBeOk();
        });
        var result = await app.Host.Scenario(s =>
        {
            // What Prometheus 2.x sends by default.
            s.Get.Url("/cdc/metrics").Accepts(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe(TextFormat004);
            s.ContentShouldNotContain("# EOF");
            s.ContentShouldContain("# TYPE milvus_cdc_request_total counter\n");
            s.ContentShouldContain("milvus_cdc_request_latency_bucket{request_type=\"list\",le=\"128\"} 1\n");
        });
        ExpositionParser.Parse(await result.ReadAsTextAsync());
    }

    [Fact]
    public async Task The_process_metrics_of_the_library_are_served_beside_the_cdc_ones()
    {
        await using var app = await CdcApp.StartAsync();
        var families = await ScrapeAsync(app);
        Assert.True(families["process_working_set_bytes"].Samples.Single().Value > 0);
        Assert.True(families["process_cpu_seconds_total"].Samples.Single().Value > 0);
        Assert.Equal("0", families["dotnet_collection_count_total"].Samples.Select(s => s.Label("generation")).Order().First());
        Assert.DoesNotContain(families.Keys, name => name.StartsWith("prometheus_net_", StringComparison.Ordinal) || name.StartsWith("microsoft_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_servers_in_one_process_keep_their_series_apart()
    {
        await using var first = await CdcApp.StartAsync();
        await using var second = await CdcApp.StartAsync();
        first.Services.GetRequiredService<ICdcMetrics>().ApiExecuted("t-first", "Flush");
        for (var i = 0; i < 2; i++)
        {
            await second.Host.Scenario(s =>
            {
                s.PostEnvelope("list");
                s.StatusCodeShouldBeOk();
            });
        }

        var one = await ScrapeAsync(first);
        var two = await ScrapeAsync(second);

        Assert.Equal(["t-first"], one["milvus_cdc_api_execute_total"].Samples.Select(s => s.Label("task_id")));
        Assert.Empty(two["milvus_cdc_api_execute_total"].Samples);
        Assert.DoesNotContain(one["milvus_cdc_request_total"].Samples, s => s.Label("request_type") == "list");
        Assert.Equal(2, two["milvus_cdc_request_total"].Samples.Single(s => (s.Label("request_type"), s.Label("request_status")) == ("list", "total")).Value);
    }

    [Fact]
    public async Task The_metrics_route_does_not_disturb_the_cdc_route()
    {
        await using var app = await CdcApp.StartAsync();
        await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc/metrics");
            s.StatusCodeShouldBeOk();
        });
        await app.Host.Scenario(s =>
        {
            s.Post.Text("{}").ToUrl("/cdc/metrics").ContentType("application/json");
            s.StatusCodeShouldBe(HttpStatusCode.MethodNotAllowed);
        });
        await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc");
            s.StatusCodeShouldBe(HttpStatusCode.MethodNotAllowed);
        });
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("list");
            s.StatusCodeShouldBeOk();
        });
    }
}
