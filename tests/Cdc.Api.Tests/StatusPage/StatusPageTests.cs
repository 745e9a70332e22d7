using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cdc.Api.Tests.Scenarios;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cdc.Api.Tests.StatusPage;

/// <summary>
/// The status page at / in a real headless Chromium, served by the real server in its own process: it lists the tasks
/// with their state, lag chart and throughput, shows an error text containing markup as text without running it, shows
/// a pause, offers pause and resume buttons only when <c>statusPage.actions</c> is on (each asks first), and the API
/// reference at /scalar/v1 renders the server's OpenAPI document. The page refreshes every second here (<c>?refresh=1</c>);
/// the tests wait for what it shows, never for a fixed time.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed class StatusPageTests(HeadlessChromium chromium) : IClassFixture<HeadlessChromium>
{
    /// <summary>An error text with markup: were it rendered as HTML, the script or the image's handler would set the flag.</summary>
    private const string Markup = "<script>window.__injected = 1</script><img src=x onerror=\"window.__injected = 2\">";

    private readonly CancellationToken _deadline = new CancellationTokenSource(TimeSpan.FromSeconds(150)).Token;
    private readonly List<string> _log = [];

    static StatusPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task The_page_shows_a_replicating_task_its_lag_and_throughput_an_error_with_markup_as_text_and_pauses_after_a_confirmation()
    {
        using var source = new ScenarioSource("statuspage");
        await using var target = await FakeMilvusServer.StartAsync();
        await using var database = await PostgresDatabase.CreateAsync();
        var books = await source.CreateCollectionAsync("books", _deadline);
        var settings = new Dictionary<string, string>(source.ServerSettings)
        {
            ["metaStoreConfig:postgres:connectionString"] = database.ConnectionString,
            ["metaStoreConfig:secretKey"] = CdcApp.SecretKey,
            ["statusPage:actions"] = "true",
        };
        await using var server = await CdcServerProcess.StartAsync(settings, _deadline);
        CdcCall cdc = (type, data) => server.PostAsync(type, data);
        var taskId = await Scenario.CreateTaskAsync(cdc, target);
        await Scenario.WaitUntilReadingAsync(target, source, ["books"], _deadline);
        await source.InsertAsync("books", Scenario.Keys(1, 50), _deadline);
        await source.TickAsync(_deadline);
        await Scenario.TargetEqualsSourceAsync(target, source, ["books"]);
        // Every channel of the collection has a checkpoint, so get and the page show a lag for each.
        var channels = books.PhysicalChannels.Order().ToList();
        await Scenario.EventuallyAsync(async () =>
        {
            await source.TickAsync(_deadline);
            return (await LaggingChannelsAsync(cdc, taskId)).SequenceEqual(channels);
        }, () => $"checkpoints on {string.Join(", ", channels)}");

        var page = await chromium.OpenAsync(new Uri(server.Address, "/?refresh=1"), _log);
        var card = page.Locator($"article[data-task-id='{taskId}']");
        await Expect(card.Locator(".task-id")).ToHaveTextAsync(taskId);
        await Expect(card.Locator(".state")).ToHaveTextAsync("Running");
        await Expect(card.Locator(".status")).ToHaveTextAsync("replicating");
        await Expect(card.Locator(".target")).ToHaveTextAsync(target.Uri.ToString());
        await Expect(card.Locator(".collections")).ToHaveTextAsync("*");
        await Expect(page.Locator("#summary")).ToContainTextAsync("1 task: 1 Running");
        // Throughput, from the server's write counters: the 50 rows, then a rate once two scrapes were taken.
        await Expect(card.Locator(".throughput")).ToHaveTextAsync(new Regex(@"rows/s, .*/s \(50 rows, .* written\)"));
        // Per-channel lag: a row per checkpoint (the replicate channel's too, without a lag), and a line per DML
        // channel once two samples were taken.
        var (_, got) = await cdc("get", new { task_id = taskId });
        await Expect(card.Locator("table.channels tbody tr")).ToHaveCountAsync(got["data"]!["Task"]!["position"]!.AsArray().Count);
        await Expect(card.Locator(".lag-chart polyline")).ToHaveCountAsync(channels.Count);
        await page.WaitForFunctionAsync(
            "id => [...document.querySelectorAll(`article[data-task-id='${id}'] .lag-chart polyline`)].every(l => l.getAttribute('points').trim().split(' ').length >= 2)",
            taskId);
        var charted = await card.Locator(".lag-chart polyline").EvaluateAllAsync<string[]>("lines => lines.map(l => l.dataset.channel)");
        Assert.Equal(channels, charted.Order());

        // The target fails its next calls with a reason in markup; the replication retries through it and get shows it.
        target.FailNextWithStatus(20, 65535, Markup, retriable: true, method: "ReplicateMessage");
        await Scenario.EventuallyAsync(async () =>
        {
            await source.TickAsync(_deadline);
            var (_, current) = await cdc("get", new { task_id = taskId });
            return current["data"]!["Task"]!["health"]?["last_error"]?.GetValue<string>().Contains(Markup, StringComparison.Ordinal) == true;
        }, () => "get showing the target's error");
        await Expect(card.Locator(".last-error")).ToContainTextAsync(Markup);
        await Expect(card.Locator(".last-error-time")).Not.ToBeEmptyAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => window.__injected === undefined"), "markup in the error text ran");
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());
        Assert.Equal(1, await page.EvaluateAsync<int>("() => document.scripts.length"));

        // Pause: the button asks first; dismissed, nothing is sent; confirmed, the task pauses and the page shows it.
        var dialogs = new Queue<bool>([false, true]);
        var asked = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            lock (asked) asked.Add(dialog.Message);
            if (dialogs.Dequeue()) await dialog.AcceptAsync();
            else await dialog.DismissAsync();
        };
        await card.Locator("button[data-action=pause]").ClickAsync();
        await page.WaitForFunctionAsync("() => true"); // the click's handler has returned
        Assert.Equal("Running", (await Scenario.GetTaskAsync(cdc, taskId)).State);
        await card.Locator("button[data-action=pause]").ClickAsync();
        await Expect(card.Locator(".state")).ToHaveTextAsync("Paused");
        await Expect(card.Locator(".status")).ToHaveTextAsync("paused");
        await Expect(card.Locator(".reason")).ToHaveTextAsync("manually pause through http interface");
        await Expect(card.Locator(".action-result")).ToHaveTextAsync("pause: done");
        await Expect(card.Locator("button[data-action=pause]")).ToBeHiddenAsync();
        await Expect(card.Locator("button[data-action=resume]")).ToBeVisibleAsync();
        Assert.Equal([$"Pause task {taskId}?", $"Pause task {taskId}?"], asked);
        Assert.Equal(("Paused", "manually pause through http interface"), await Scenario.GetTaskAsync(cdc, taskId));

        // The event history from the audit stream, newest first.
        await card.Locator("details.events summary").ClickAsync();
        await Expect(card.Locator("details.events tbody tr")).ToHaveCountAsync(2);
        await Expect(card.Locator("details.events tbody tr td:nth-child(3)")).ToHaveTextAsync(["task_paused", "task_created"]);

        Assert.DoesNotContain(_log, line => line.StartsWith("page error", StringComparison.Ordinal) || line.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_read_only_page_lists_tasks_without_buttons_shows_a_pause_and_a_delete_made_through_the_api()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = new Dictionary<string, string>(CdcApp.WithoutReplicationEngine())
        {
            ["metaStoreConfig:postgres:connectionString"] = database.ConnectionString,
            ["metaStoreConfig:secretKey"] = CdcApp.SecretKey,
        };
        await using var server = await CdcServerProcess.StartAsync(settings, _deadline);
        using (var response = await server.Client.GetAsync("/", _deadline))
        {
            var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", policy);
            Assert.DoesNotContain("unsafe-inline", policy);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        }

        var (status, created) = await server.PostAsync("create", CdcApp.SeedCreate());
        Assert.True(status == 200, created.ToJsonString());
        var taskId = created["data"]!["task_id"]!.GetValue<string>();

        var page = await chromium.OpenAsync(new Uri(server.Address, "/?refresh=1"), _log);
        var card = page.Locator($"article[data-task-id='{taskId}']");
        await Expect(card.Locator(".state")).ToHaveTextAsync("Running");
        await Expect(card.Locator(".target")).ToHaveTextAsync("http://localhost:19530");
        await Expect(card.Locator(".lag")).ToHaveTextAsync("no checkpoint yet");
        await Expect(card.Locator(".lag-chart-caption")).ToHaveTextAsync("Lag chart: no channel checkpoint yet.");
        await Expect(card.Locator(".last-error")).ToHaveTextAsync("none");
        await Expect(card.Locator(".actions")).ToBeHiddenAsync();
        Assert.Equal(0, await card.Locator("button:visible").CountAsync());

        (status, _) = await server.PostAsync("pause", new { task_id = taskId });
        Assert.Equal(200, status);
        await Expect(card.Locator(".state")).ToHaveTextAsync("Paused");
        await Expect(card.Locator(".reason")).ToHaveTextAsync("manually pause through http interface");
        await card.Locator("details.events summary").ClickAsync();
        await Expect(card.Locator("details.events tbody tr td:nth-child(3)")).ToHaveTextAsync(["task_paused", "task_created"]);
        // The token given at create shows nowhere on the page, not even in the event data.
        Assert.DoesNotContain("root:Milvus", await page.ContentAsync());

        (status, _) = await server.PostAsync("delete", new { task_id = taskId });
        Assert.Equal(200, status);
        await Expect(card).ToHaveCountAsync(0);
        await Expect(page.Locator("#summary")).ToContainTextAsync("0 tasks");
        Assert.DoesNotContain(_log, line => line.StartsWith("page error", StringComparison.Ordinal) || line.Contains("Content Security Policy", StringComparison.Ordinal));

        // The API reference renders the server's own OpenAPI document.
        var reference = await chromium.OpenAsync(new Uri(server.Address, "/scalar/v1"), _log);
        await Expect(reference.GetByText("Milvus CDC server API").First).ToBeVisibleAsync();
        await Expect(reference.GetByText("request_type").First).ToBeAttachedAsync();
    }

    [Fact]
    public async Task With_api_tokens_the_page_asks_for_one_then_lists_the_tasks_with_it()
    {
        const string token = "cdc-status-page-token-5e1b7c2a90f3d4";
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = new Dictionary<string, string>(CdcApp.WithoutReplicationEngine())
        {
            ["metaStoreConfig:postgres:connectionString"] = database.ConnectionString,
            ["metaStoreConfig:secretKey"] = CdcApp.SecretKey,
            ["apiAuth:tokens"] = token,
        };
        await using var server = await CdcServerProcess.StartAsync(settings, _deadline);
        server.Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var (status, created) = await server.PostAsync("create", CdcApp.SeedCreate());
        Assert.True(status == 200, created.ToJsonString());
        var taskId = created["data"]!["task_id"]!.GetValue<string>();

        var page = await chromium.OpenAsync(new Uri(server.Address, "/?refresh=1"), _log);
        await Expect(page.Locator("#token-form")).ToBeVisibleAsync();
        await Expect(page.Locator("#page-error")).ToContainTextAsync("this server needs an API token");
        await page.Locator("#token-input").FillAsync("not-the-token-at-all-0000");
        await page.Locator("#token-form button").ClickAsync();
        await Expect(page.Locator("#page-error")).ToContainTextAsync("the API token was refused");

        await page.Locator("#token-input").FillAsync(token);
        await page.Locator("#token-form button").ClickAsync();
        await Expect(page.Locator($"article[data-task-id='{taskId}'] .state")).ToHaveTextAsync("Running");
        await Expect(page.Locator("#token-form")).ToBeHiddenAsync();
        await Expect(page.Locator("#page-error")).ToBeHiddenAsync();
        Assert.DoesNotContain(token, await page.ContentAsync());
    }

    /// <summary>The channels get shows a lag for (those with a checkpoint, the replicate channel left out), in order.</summary>
    private static async Task<List<string>> LaggingChannelsAsync(CdcCall cdc, string taskId)
    {
        var (_, got) = await cdc("get", new { task_id = taskId });
        return [.. (got["data"]!["Task"]!["position"]?.AsArray() ?? [])
            .Where(p => p!["lag_ms"] is not null)
            .Select(p => p!["channel_name"]!.GetValue<string>())
            .Order()];
    }
}
