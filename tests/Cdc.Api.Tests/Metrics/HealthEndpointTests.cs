using System.Net;
using System.Text.Json.Nodes;
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
    private static async Task<(HttpStatusCode Status, JsonObject Body)> ReadyzAsync(CdcApp app)
    {
        using var response = await app.Client.GetAsync("/readyz");
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        return (response.StatusCode, await CdcApp.ReadAsync(response));
    }

    private static async Task<JsonObject> EventuallyReadyAsync(CdcApp app)
    {
        (HttpStatusCode Status, JsonObject Body) last = default;
        for (var i = 0; i < 100; i++)
        {
            last = await ReadyzAsync(app);
            if (last.Status == HttpStatusCode.OK) return last.Body;
            await Task.Delay(50);
        }
        Assert.Fail($"never ready: {last.Body?.ToJsonString()}");
        return null!;
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        await using var app = await CdcApp.StartAsync();
        using var response = await app.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_healthy_server_without_an_engine_is_ready()
    {
        await using var app = await CdcApp.StartAsync(CdcApp.WithoutReplicationEngine());
        var body = await EventuallyReadyAsync(app);
        Assert.Equal("ready", body["status"]!.GetValue<string>());
        Assert.Equal("ok", body["checks"]!["event_store"]!.GetValue<string>());
        Assert.Equal("NotConfigured", body["checks"]!["replication_worker"]!.GetValue<string>());
        Assert.Null(body["not_ready"]);
    }

    [Fact]
    public async Task A_server_with_a_running_engine_is_ready()
    {
        await using var app = await CdcApp.StartAsync(services: s => s.AddSingleton<ITaskReplication>(new RecordingReplication()));
        var body = await EventuallyReadyAsync(app);
        Assert.Equal("Running", body["checks"]!["replication_worker"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_event_store_that_does_not_answer_in_time_is_not_ready()
    {
        await using var app = await CdcApp.StartAsync(services: s => s.AddSingleton<IEventFeed>(new SilentEventFeed()));
        var started = DateTime.UtcNow;
        var (status, body) = await ReadyzAsync(app);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("no answer within 2 s", body["checks"]!["event_store"]!.GetValue<string>());
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
        (HttpStatusCode Status, JsonObject Body) last = default;
        for (var i = 0; i < 100 && last.Body?["checks"]?["replication_worker"]?.GetValue<string>().Contains("the task views are not readable yet") != true; i++)
        {
            if (i > 0) await Task.Delay(50);
            last = await ReadyzAsync(app);
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, last.Status);
        Assert.Equal(["replication_worker"], last.Body!["not_ready"]!.AsArray().Select(n => n!.GetValue<string>()));
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

        var (status, body) = await ReadyzAsync(app);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("not ready", body["status"]!.GetValue<string>());
        Assert.Equal(["event_store"], body["not_ready"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.NotEqual("ok", body["checks"]!["event_store"]!.GetValue<string>());
        Assert.Equal("NotConfigured", body["checks"]!["replication_worker"]!.GetValue<string>());

        using (var health = await app.Client.GetAsync("/healthz")) Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        using var metrics = await app.Client.GetAsync("/cdc/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var families = ExpositionParser.Parse(await metrics.Content.ReadAsStringAsync()).ToDictionary(f => f.Name);
        Assert.NotEmpty(families["milvus_cdc_request_total"].Samples);
        Assert.Empty(families["milvus_cdc_task_num"].Samples); // declared, without series: Prometheus sees none
        Assert.Empty(families["milvus_cdc_task_state"].Samples);
        Assert.Contains(app.Logs.Lines, l => l.Contains("the task metrics are left out of this scrape"));
    }
}
