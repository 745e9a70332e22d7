using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cdc.Api.Tests.ApiDescription;
using Cdc.Api.Tests.Scenarios;
using Cdc.Testing;

namespace Cdc.Api.Tests.Dashboard;

/// <summary>
/// configs/grafana-dashboard.json is importable as it is (a Prometheus datasource variable that every panel and query
/// uses) and built on metrics the server really serves: after a replication, every metric its queries name is in a
/// scrape of /cdc/metrics, with the labels the queries select and group by. The same replication's get answer, with
/// per-channel lag and health, matches the OpenAPI document's schema.
/// </summary>
[Collection(ScenarioCollection.Name)]
public sealed partial class GrafanaDashboardScenario() : InProcessScenario("dashboard")
{
    /// <summary>Counted only after a server died and another re-sent rows: declared in every scrape, without series here.</summary>
    private static readonly HashSet<string> EventOnlyMetrics = ["milvus_cdc_replayed_rows_total"];

    /// <summary>The families an operator looks for first: tasks, lag, rows and bytes, target calls, buffers.</summary>
    private static readonly string[] Required =
    [
        "milvus_cdc_task_num", "milvus_cdc_task_state", "milvus_cdc_replicate_lag_ms", "milvus_cdc_replicate_data_cnt",
        "milvus_cdc_replicate_data_size", "milvus_cdc_api_execute_total", "milvus_cdc_buffer_bytes", "milvus_cdc_buffer_messages",
    ];

    private static readonly HashSet<string> PromQlWords = ["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"];

    [Fact]
    public async Task Every_metric_and_label_the_dashboard_queries_is_in_a_scrape_of_a_server_that_replicated()
    {
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryRoot.File_(Path.Combine("configs", "grafana-dashboard.json"))))!.AsObject();
        var queries = Queries(dashboard);

        var taskId = await StartTaskAsync("books");
        await Source.InsertAsync("books", Scenario.Keys(1, 200), Deadline);
        await Source.DeleteAsync("books", Scenario.Keys(1, 20), Deadline);
        await Source.TickAsync(Deadline);
        await Scenario.TargetEqualsSourceAsync(Target, Source, ["books"]);
        await Scenario.EventuallyAsync(async () =>
        {
            await Source.TickAsync(Deadline);
            var (_, got) = await App.PostAsync("get", new { task_id = taskId });
            return got["data"]!["Task"]!["health"]?["lag_ms"] is not null;
        }, () => "a checkpoint of the task");

        using var response = await App.Client.GetAsync("/cdc/metrics");
        var scrape = Scrape.Parse(await response.Content.ReadAsStringAsync());

        var used = new HashSet<string>();
        foreach (var (panel, expr) in queries)
        {
            var selectors = Selectors(expr).ToList();
            Assert.True(selectors.Count > 0, $"panel '{panel}': no metric in {expr}");
            foreach (var (metric, labels) in selectors)
            {
                used.Add(metric);
                Assert.True(scrape.Declared.Contains(metric) || scrape.Samples.ContainsKey(metric),
                    $"panel '{panel}' queries {metric}, which the scrape does not have");
                if (EventOnlyMetrics.Contains(metric)) continue;
                Assert.True(scrape.Samples.ContainsKey(metric), $"panel '{panel}' queries {metric}, which has no series after a replication");
                foreach (var label in labels)
                    Assert.True(scrape.Samples[metric].Contains(label), $"panel '{panel}' selects {metric} by '{label}', a label it does not have");
            }

            if (selectors.All(s => EventOnlyMetrics.Contains(s.Metric))) continue;
            foreach (var label in GroupingLabels(expr))
                Assert.True(selectors.Any(s => scrape.Samples.TryGetValue(s.Metric, out var labels) && labels.Contains(label)),
                    $"panel '{panel}' groups by '{label}', which none of its metrics has: {expr}");
        }

        Assert.Empty(Required.Except(used));

        // The get answer with checkpoints: a lag for each DML channel, none for the replicate channel, as documented.
        var (_, answer) = await App.PostAsync("get", new { task_id = taskId });
        new DocumentedSchemas(Http.ApiDescription.Document()).AssertValid("GetResponse", answer);
        foreach (var position in answer["data"]!["Task"]!["position"]!.AsArray())
        {
            var channel = position!["channel_name"]!.GetValue<string>();
            Assert.True((position["lag_ms"] is null) == (channel == Source.ReplicateChannel), $"lag_ms of {channel}: {position.ToJsonString()}");
        }
    }

    [Fact]
    public async Task The_dashboard_imports_as_it_is_with_a_prometheus_datasource_variable()
    {
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryRoot.File_(Path.Combine("configs", "grafana-dashboard.json"))))!.AsObject();
        Assert.False(string.IsNullOrEmpty(dashboard["uid"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(dashboard["title"]?.GetValue<string>()));
        Assert.True(dashboard["schemaVersion"]!.GetValue<int>() > 0);
        var variables = dashboard["templating"]!["list"]!.AsArray();
        var datasource = variables.Single(v => v!["type"]!.GetValue<string>() == "datasource");
        Assert.Equal("prometheus", datasource!["query"]!.GetValue<string>());
        var reference = "${" + datasource["name"]!.GetValue<string>() + "}";

        var panels = Panels(dashboard).ToList();
        Assert.Equal(panels.Count, panels.Select(p => p["id"]!.GetValue<int>()).Distinct().Count());
        foreach (var panel in panels.Where(p => p["type"]!.GetValue<string>() != "row"))
        {
            var title = panel["title"]!.GetValue<string>();
            Assert.Equal(reference, panel["datasource"]?["uid"]?.GetValue<string>());
            var targets = panel["targets"]!.AsArray();
            Assert.True(targets.Count > 0, $"panel '{title}' has no query");
            foreach (var target in targets)
            {
                Assert.Equal(reference, target!["datasource"]?["uid"]?.GetValue<string>());
                Assert.False(string.IsNullOrWhiteSpace(target["expr"]?.GetValue<string>()), $"panel '{title}' has an empty query");
            }
        }

        // Every other variable reads its values through the datasource variable too.
        foreach (var variable in variables.Where(v => v!["type"]!.GetValue<string>() == "query"))
            Assert.Equal(reference, variable!["datasource"]!["uid"]!.GetValue<string>());
    }

    private static IEnumerable<JsonObject> Panels(JsonObject dashboard) =>
        dashboard["panels"]!.AsArray().Select(p => p!.AsObject())
            .SelectMany(p => new[] { p }.Concat(p["panels"]?.AsArray().Select(n => n!.AsObject()) ?? []));

    private static List<(string Panel, string Expr)> Queries(JsonObject dashboard) =>
        [.. Panels(dashboard).Where(p => p["targets"] is not null)
            .SelectMany(p => p["targets"]!.AsArray().Select(t => (p["title"]!.GetValue<string>(), t!["expr"]!.GetValue<string>())))
            .Concat(dashboard["templating"]!["list"]!.AsArray()
                .Where(v => v!["definition"] is not null)
                .Select(v => ("variable " + v!["name"]!.GetValue<string>(), LabelValuesQuery(v["definition"]!.GetValue<string>()))))];

    /// <summary>label_values(metric, label) as a selector of the metric with that label, so both are checked.</summary>
    private static string LabelValuesQuery(string definition)
    {
        var match = LabelValues().Match(definition);
        Assert.True(match.Success, $"unexpected variable query {definition}");
        return $"{match.Groups[1].Value}{{{match.Groups[2].Value}!=\"\"}}";
    }

    /// <summary>The metric names of a PromQL expression, each with the label names its matchers use.</summary>
    private static IEnumerable<(string Metric, string[] Labels)> Selectors(string expr)
    {
        var plain = StringLiteral().Replace(expr, "\"\"");
        plain = RangeOrSubquery().Replace(plain, "");
        plain = Grouping().Replace(plain, "");
        foreach (Match m in Selector().Matches(plain))
        {
            var name = m.Groups["name"].Value;
            var followedByCall = plain[(m.Index + m.Length)..].TrimStart().StartsWith('(') && !m.Groups["matchers"].Success;
            if (followedByCall || PromQlWords.Contains(name.ToLowerInvariant())) continue;
            var labels = LabelMatcher().Matches(m.Groups["matchers"].Value).Select(l => l.Groups[1].Value).ToArray();
            yield return (name, labels);
        }
    }

    private static IEnumerable<string> GroupingLabels(string expr) =>
        Grouping().Matches(StringLiteral().Replace(expr, "\"\""))
            .SelectMany(m => m.Groups["labels"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangeOrSubquery();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\((?<labels>[^)]*)\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w:$.])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?<matchers>\{[^}]*\})?")]
    private static partial Regex Selector();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")]
    private static partial Regex LabelMatcher();

    [GeneratedRegex(@"^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$")]
    private static partial Regex LabelValues();

    /// <summary>A Prometheus text exposition: the declared families and, per sample name, the label names seen.</summary>
    private sealed partial record Scrape(HashSet<string> Declared, Dictionary<string, HashSet<string>> Samples)
    {
        public static Scrape Parse(string text)
        {
            var declared = new HashSet<string>();
            var samples = new Dictionary<string, HashSet<string>>();
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    declared.Add(line.Split(' ')[2]);
                    continue;
                }

                if (line.Length == 0 || line.StartsWith('#')) continue;
                var m = SampleLine().Match(line);
                Assert.True(m.Success, $"not a sample line: {line}");
                var labels = samples.TryGetValue(m.Groups[1].Value, out var seen) ? seen : samples[m.Groups[1].Value] = [];
                foreach (Match label in SampleLabel().Matches(m.Groups[2].Value)) labels.Add(label.Groups[1].Value);
            }

            return new Scrape(declared, samples);
        }

        [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+")]
        private static partial Regex SampleLine();

        [GeneratedRegex("([a-zA-Z_][a-zA-Z0-9_]*)=\"(?:[^\"\\\\]|\\\\.)*\"")]
        private static partial Regex SampleLabel();
    }
}
