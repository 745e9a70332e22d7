using Cdc.Application.Replication.Supervision;
using Cdc.Application.Tasks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Application.Tests;

/// <summary>A run's monitor for stage tests: no metrics, and the runtime reports kept for the test to read.</summary>
internal sealed class TestMonitors
{
    public RecordingReports Reports { get; } = new();

    public TaskRunMonitor Monitor(TimeProvider? clock = null) =>
        new("t1", "server-a", Unmonitored.Metrics, Reports, clock ?? TimeProvider.System, NullLogger.Instance);

    public sealed class RecordingReports : ITaskRuntimeReports
    {
        public TaskRuntimeReport? Last { get; private set; }

        public Task ReportAsync(string taskId, TaskRuntimeReport report, CancellationToken cancellationToken)
        {
            Last = report;
            return Task.CompletedTask;
        }

        public Task RemoveAsync(string taskId, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
