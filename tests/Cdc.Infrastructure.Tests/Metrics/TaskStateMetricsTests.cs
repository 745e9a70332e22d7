using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Metrics;
using Cdc.Testing;
using Cdc.Testing.Metrics;
using Microsoft.Extensions.Logging;

namespace Cdc.Infrastructure.Tests.Metrics;

/// <summary>
/// The task families read from the projection at scrape time, and what a scrape serves while the projection fails
/// or does not answer. (With the real database, the server's tests check the same through <c>/cdc/metrics</c>.)
/// </summary>
public sealed class TaskStateMetricsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static TaskView View(string id, TaskState state) => new(
        id, new MilvusTarget("http://target:19530", 5), new CollectionSelection([new CollectionInfo("books")], null), null,
        false, state, null, [], Now, Now, 1);

    [Fact]
    public async Task The_task_families_follow_the_projection_and_its_outages()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var views = new ScriptedTaskViews();
        var logs = new CapturedLogs();
        _ = new TaskStateMetrics(registry, views, TimeProvider.System, new Logger<TaskStateMetrics>(new LoggerFactory([logs])))
        {
            CollectorTimeout = TimeSpan.FromMilliseconds(200),
        };
        new CdcReplicationMetrics(registry, TimeProvider.System).ApiExecuted("t1", "Flush");

        views.Answer(View("t1", TaskState.Running), View("t2", TaskState.Paused), View("t3", TaskState.Running));
        var families = await RegistryScrape.FamiliesAsync(registry);
        Assert.Equal("gauge", families["milvus_cdc_task_num"].Type);
        Assert.Equal(new Dictionary<string, double> { ["Initial"] = 0, ["Running"] = 2, ["Paused"] = 1 },
            families["milvus_cdc_task_num"].Samples.ToDictionary(s => s.Label("task_state"), s => s.Value));
        Assert.Equal(new Dictionary<string, double> { ["t1"] = 1, ["t2"] = 2, ["t3"] = 1 },
            families["milvus_cdc_task_state"].Samples.ToDictionary(s => s.Label("task_id"), s => s.Value));

        // The database fails: the task families have no series in this scrape, the rest is served, a warning says why.
        views.Fail(new InvalidOperationException("the database is down"));
        families = await RegistryScrape.FamiliesAsync(registry);
        Assert.Empty(families["milvus_cdc_task_num"].Samples);
        Assert.Empty(families["milvus_cdc_task_state"].Samples);
        Assert.Equal(1, families["milvus_cdc_api_execute_total"].Samples.Single().Value);
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal)
            && l.Contains("the task metrics are left out of this scrape: the database is down"));

        // The database does not answer: the scrape still ends, after the collector's timeout.
        views.Hang();
        families = await RegistryScrape.FamiliesAsync(registry);
        Assert.Empty(families["milvus_cdc_task_num"].Samples);
        Assert.Contains(logs.Lines, l => l.Contains("the task metrics are left out of this scrape: no answer within 0.2 s"));

        // Back, with t1 deleted meanwhile: its series does not come back.
        views.Answer(View("t2", TaskState.Running), View("t3", TaskState.Running));
        families = await RegistryScrape.FamiliesAsync(registry);
        Assert.Equal(2, families["milvus_cdc_task_num"].Samples.Single(s => s.Label("task_state") == "Running").Value);
        Assert.Equal(["t2", "t3"], families["milvus_cdc_task_state"].Samples.Select(s => s.Label("task_id")).Order());
        Assert.All(families["milvus_cdc_task_state"].Samples, s => Assert.Equal(1, s.Value));
    }

    [Fact]
    public async Task A_task_deleted_between_scrapes_leaves_the_state_family()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var views = new ScriptedTaskViews();
        _ = new TaskStateMetrics(registry, views, TimeProvider.System, new Logger<TaskStateMetrics>(new LoggerFactory()));
        views.Answer(View("t1", TaskState.Initial), View("t2", TaskState.Paused));
        Assert.Equal(2, (await RegistryScrape.FamiliesAsync(registry))["milvus_cdc_task_state"].Samples.Count);

        views.Answer(View("t2", TaskState.Paused));
        var families = await RegistryScrape.FamiliesAsync(registry);
        Assert.Equal([("t2", 2.0)], families["milvus_cdc_task_state"].Samples.Select(s => (s.Label("task_id"), s.Value)));
        Assert.Equal(0, families["milvus_cdc_task_num"].Samples.Single(s => s.Label("task_state") == "Initial").Value);
    }

    /// <summary>The projection as the test sets it: a list of tasks, a failure, or no answer until cancelled.</summary>
    private sealed class ScriptedTaskViews : ITaskViews
    {
        private Func<CancellationToken, Task<IReadOnlyList<TaskView>>> _list = _ => Task.FromResult<IReadOnlyList<TaskView>>([]);

        public void Answer(params TaskView[] tasks) => _list = _ => Task.FromResult<IReadOnlyList<TaskView>>(tasks);

        public void Fail(Exception error) => _list = _ => Task.FromException<IReadOnlyList<TaskView>>(error);

        public void Hang() => _list = async ct =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return [];
        };

        public Task<TaskView?> GetAsync(string taskId, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the task metrics only list");

        public Task<IReadOnlyList<TaskView>> ListAsync(CancellationToken cancellationToken) => _list(cancellationToken);
    }
}
