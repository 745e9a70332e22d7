using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// The task families, read from the task projection at scrape time: <c>milvus_cdc_task_num{task_state}</c> for
/// every state (0 included) and <c>milvus_cdc_task_state{task_id}</c> with the state's number (Initial 0,
/// Running 1, Paused 2).
/// </summary>
public sealed class TaskStateMetrics(ITaskViews views) : IMetricsCollector
{
    public string Name => "task";

    public async Task<IReadOnlyList<MetricFamilySnapshot>> CollectAsync(CancellationToken cancellationToken)
    {
        var tasks = await views.ListAsync(cancellationToken);
        var counts = Enum.GetValues<TaskState>()
            .Select(state => new MetricSample("milvus_cdc_task_num",
                [new("task_state", state.ToString())],
                tasks.Count(t => t.State == state)))
            .ToList();
        var states = tasks.OrderBy(t => t.TaskId, StringComparer.Ordinal)
            .Select(t => new MetricSample("milvus_cdc_task_state", [new("task_id", t.TaskId)], (int)t.State))
            .ToList();
        return
        [
            new MetricFamilySnapshot("milvus_cdc_task_num", "number of tasks per state", MetricType.Gauge, counts),
            new MetricFamilySnapshot("milvus_cdc_task_state", "state of each task: 0 Initial, 1 Running, 2 Paused", MetricType.Gauge, states),
        ];
    }
}
