using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// The task families, set from the task projection before each scrape: <c>milvus_cdc_task_num{task_state}</c> for
/// every state (0 included), <c>milvus_cdc_task_state{task_id}</c> with the state's number (Initial 0,
/// Running 1, Paused 2), and <c>milvus_cdc_task_caught_up{task_id}</c>, 1 while get shows the task caught up and 0
/// otherwise (no series for a task that never ran). When the projection fails or does not answer within <see cref="CollectorTimeout"/> (the
/// database is down, say), both families are served without series in that scrape and a warning is logged; the
/// other families are still served.
/// </summary>
public sealed class TaskStateMetrics
{
    private readonly ITaskViews _views;
    private readonly TimeProvider _clock;
    private readonly ILogger<TaskStateMetrics> _logger;
    private readonly Gauge _taskNum;
    private readonly Gauge _taskState;
    private readonly Gauge _caughtUp;

    /// <summary>Held while the families are rewritten, so two scrapes at once do not interleave their updates.</summary>
    private readonly Lock _gate = new();

    public TaskStateMetrics(CollectorRegistry registry, ITaskViews views, TimeProvider clock, ILogger<TaskStateMetrics> logger)
    {
        _views = views;
        _clock = clock;
        _logger = logger;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _taskNum = factory.CreateGauge("milvus_cdc_task_num", "number of tasks per state", ["task_state"]);
        _taskState = factory.CreateGauge("milvus_cdc_task_state", "state of each task: 0 Initial, 1 Running, 2 Paused", ["task_id"]);
        _caughtUp = factory.CreateGauge("milvus_cdc_task_caught_up",
            "1 while the task has applied everything its source held about a second ago (get's caught_up), else 0", ["task_id"]);
        registry.AddBeforeCollectCallback(UpdateAsync);
    }

    public TimeSpan CollectorTimeout { get; init; } = TimeSpan.FromSeconds(5);

    private async Task UpdateAsync(CancellationToken scrapeAborted)
    {
        using var timeout = new CancellationTokenSource(CollectorTimeout, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(scrapeAborted, timeout.Token);
        IReadOnlyList<TaskView> tasks;
        try
        {
            tasks = await _views.ListAsync(linked.Token);
        }
        catch (Exception ex) when (!scrapeAborted.IsCancellationRequested)
        {
            var reason = timeout.IsCancellationRequested ? $"no answer within {CollectorTimeout.TotalSeconds:0.###} s" : ex.Message;
            _logger.LogWarning(ex, "the task metrics are left out of this scrape: {Reason}", reason);
            lock (_gate)
            {
                RemoveAll(_taskNum);
                RemoveAll(_taskState);
                RemoveAll(_caughtUp);
            }
            return;
        }

        lock (_gate)
        {
            foreach (var state in Enum.GetValues<TaskState>())
                _taskNum.WithLabels(state.ToString()).Set(tasks.Count(t => t.State == state));
            var current = new HashSet<string>(StringComparer.Ordinal);
            var ran = new HashSet<string>(StringComparer.Ordinal);
            var now = _clock.GetUtcNow();
            foreach (var task in tasks)
            {
                _taskState.WithLabels(task.TaskId).Set((int)task.State);
                current.Add(task.TaskId);
                if (TaskCatchUp.Of(task, now) is not { } catchUp) continue;
                _caughtUp.WithLabels(task.TaskId).Set(catchUp.CaughtUp ? 1 : 0);
                ran.Add(task.TaskId);
            }
            foreach (var labelValues in _taskState.GetAllLabelValues().Where(values => !current.Contains(values[0])).ToList())
                _taskState.RemoveLabelled(labelValues);
            foreach (var labelValues in _caughtUp.GetAllLabelValues().Where(values => !ran.Contains(values[0])).ToList())
                _caughtUp.RemoveLabelled(labelValues);
        }
    }

    private static void RemoveAll(Gauge family)
    {
        foreach (var labelValues in family.GetAllLabelValues().ToList()) family.RemoveLabelled(labelValues);
    }
}
