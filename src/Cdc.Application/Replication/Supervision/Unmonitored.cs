using Cdc.Application.Metrics;
using Cdc.Application.Tasks;

namespace Cdc.Application.Replication.Supervision;

/// <summary>Metrics and runtime reports that go nowhere, for an engine hosted without them (tools, some tests).</summary>
public static class Unmonitored
{
    public static ICdcMetrics Metrics { get; } = new NoMetrics();

    public static ITaskRuntimeReports Reports { get; } = new NoReports();

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

    private sealed class NoReports : ITaskRuntimeReports
    {
        public Task ReportAsync(string taskId, TaskRuntimeReport report, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task RemoveAsync(string taskId, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
