using Cdc.Application.Metrics;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Tasks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Application.Tests;

/// <summary>A run's monitor for stage tests: no metrics, and the runtime reports kept for the test to read.</summary>
internal sealed class TestMonitors
{
    public RecordingReports Reports { get; } = new();

    public TaskRunMonitor Monitor(TimeProvider? clock = null) =>
        new("t1", "server-a", new NoMetrics(), Reports, clock ?? TimeProvider.System, NullLogger.Instance);

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

    private sealed class NoMetrics : ICdcMetrics
    {
        public void ReplicateTimeTick(string taskId, string vchannel, ReplicateOperation operation, long physicalMs) { }
        public void ReplicatedData(string taskId, string vchannel, ReplicateOperation operation, string msgType, long bytes) { }
        public void ReplicatedRows(string taskId, long collectionId, string collectionName, ReplicateOperation operation, string apiType, long count) { }
        public void ApiExecuted(string taskId, string apiType) { }
        public void ReplayedRows(string taskId, long count) { }
        public void BufferFill(string taskId, string channel, long bytes, int messages) { }
        public void SourceTimeTick(string channel, long physicalMs) { }
        public void ForgetTask(string taskId) { }
    }
}
