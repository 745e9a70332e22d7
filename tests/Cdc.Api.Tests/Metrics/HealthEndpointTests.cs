using System.Net;
using System.Text.Json.Nodes;
using Alba;
using Cdc.Application.EventStore;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Tasks;
using Cdc.Testing;
using Cdc.Testing.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cdc.Api.Tests.Metrics;

/// <summary>/healthz (the process is up) and /readyz (the event store answers, the worker runs).</summary>
public sealed class HealthEndpointTests
{
    /// <summary>GET /readyz, whose answer is JSON whatever its status.</summary>
    private static void GetReadyz(Scenario scenario)
    {
        scenario.Get.Url("/readyz");
        scenario.Header("Content-Type").SingleValueShouldMatch("^application/json(;|$)");
    }

    /// <summary>GET /readyz: its status (200 or 503) and JSON body.</summary>
    private static async Task<(HttpStatusCode Status, JsonObject Body)> ReadyzAsync(CdcApp app)
    {
        var result = await app.Host.Scenario(s =>
        {
            GetReadyz(s);
            s.IgnoreStatusCode();
        });
        return ((HttpStatusCode)result.Context.Response.StatusCode, await result.ReadAsJsonAsync<JsonObject>());
    }

    /// <summary>Polls /readyz until it answers 200, for at most 30 s.</summary>
    private static async Task EventuallyReadyAsync(CdcApp app)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            var (status, body) = await ReadyzAsync(app);
            if (status == HttpStatusCode.OK) return;
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail($"never ready: {body.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        await using var app = await CdcApp.StartAsync();
        await app.Host.Scenario(s =>
        {
            s.Get.Url("/healthz");
            s.StatusCodeShouldBeOk();
            s.ContentShouldBe("ok\n");
        });
    }

    [Fact]
    public async Task A_healthy_server_without_an_engine_is_ready()
    {
        await using var app = await CdcApp.StartAsync(CdcApp.WithoutReplicationEngine());
        await EventuallyReadyAsync(app);
        await app.Host.Scenario(s =>
        {
            GetReadyz(s);
            s.StatusCodeShouldBeOk();
            s.JsonPath("$.status").ShouldBe("ready");
            s.JsonPath("$.checks.event_store").ShouldBe("ok");
            s.JsonPath("$.checks.replication_worker").ShouldBe("NotConfigured");
            s.JsonPath("$.not_ready").ShouldNotExist();
        });
    }

    [Fact]
    public async Task A_server_with_a_running_engine_is_ready()
    {
        await using var app = await CdcApp.StartAsync(services: s => s.AddSingleton<ITaskReplication>(new RecordingReplication()));
        await EventuallyReadyAsync(app);
        await app.Host.Scenario(s =>
        {
            GetReadyz(s);
            s.JsonPath("$.checks.replication_worker").ShouldBe("Running");
        });
    }

    [Fact]
    public async Task An_event_store_that_does_not_answer_in_time_is_not_ready()
    {
        await using var app = await CdcApp.StartAsync(services: s => s.AddSingleton<IEventFeed>(new SilentEventFeed()));
        var started = DateTime.UtcNow;
        await app.Host.Scenario(s =>
        {
            GetReadyz(s);
            s.StatusCodeShouldBe(HttpStatusCode.ServiceUnavailable);
            s.JsonPath("$.checks.event_store").ShouldBe("no answer within 2 s");
        });
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_replication_host_that_cannot_start_yet_is_not_ready_and_says_why_until_it_can()
    {
        var views = new GatedTaskViews();
        await using var app = await CdcApp.StartAsync(services: s =>
        {
            s.AddSingleton<ITaskReplication>(new RecordingReplication());
            s.AddSingleton<ITaskViews>(sp => views.Over(ActivatorUtilities.CreateInstance<Cdc.Infrastructure.EventStore.MartenTaskViews>(sp)));
        });
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        var last = await ReadyzAsync(app);
        while (last.Body["checks"]?["replication_worker"]?.GetValue<string>().Contains("the task views are not readable yet") != true
               && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(50);
            last = await ReadyzAsync(app);
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, last.Status);
        Assert.Equal(["replication_worker"], last.Body["not_ready"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("ok", last.Body["checks"]!["event_store"]!.GetValue<string>());
        Assert.Equal("Starting: the task views are not readable yet", last.Body["checks"]!["replication_worker"]!.GetValue<string>());

        views.Open();
        await EventuallyReadyAsync(app);
    }

    [Fact]
    public async Task Without_its_database_the_server_is_not_ready_but_alive_and_still_serves_metrics()
    {
        await using var app = await CdcApp.StartAsync(CdcApp.WithoutReplicationEngine());
        await EventuallyReadyAsync(app);
        await app.CreateSeedTaskAsync();

        await app.Database.DisposeAsync(); // drops the database under the running server

        var readyz = await app.Host.Scenario(s =>
        {
            GetReadyz(s);
            s.StatusCodeShouldBe(HttpStatusCode.ServiceUnavailable);
            s.JsonPath("$.status").ShouldBe("not ready");
            s.JsonPath("$.not_ready").ShouldBe(new[] { "event_store" });
            s.JsonPath("$.checks.replication_worker").ShouldBe("NotConfigured");
        });
        Assert.NotEqual("ok", (await readyz.ReadAsJsonAsync<JsonObject>())["checks"]!["event_store"]!.GetValue<string>());

        await app.Host.Scenario(s =>
        {
            s.Get.Url("/healthz");
            s.StatusCodeShouldBeOk();
        });

        var metrics = await app.Host.Scenario(s =>
        {
            s.Get.Url("/cdc/metrics");
            s.StatusCodeShouldBeOk();
        });
        var families = ExpositionParser.Parse(await metrics.ReadAsTextAsync()).ToDictionary(f => f.Name);
        Assert.NotEmpty(families["milvus_cdc_request_total"].Samples);
        Assert.Empty(families["milvus_cdc_task_num"].Samples); // declared, without series: Prometheus sees none
        Assert.Empty(families["milvus_cdc_task_state"].Samples);
        Assert.Contains(app.Logs.Lines, l => l.Contains("the task metrics are left out of this scrape"));
    }
}
