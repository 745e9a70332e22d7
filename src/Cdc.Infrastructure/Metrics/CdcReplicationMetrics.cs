using System.Globalization;
using Cdc.Application.Metrics;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// <see cref="ICdcMetrics"/> on the registry, with the reference's names and labels. The lag gauge
/// <c>milvus_cdc_replicate_lag_ms{task_id,channel}</c> is computed at scrape time as now minus the last written
/// time tick of the channel, so a stalled replication shows a growing lag.
/// </summary>
public sealed class CdcReplicationMetrics : ICdcMetrics, IMetricsCollector
{
    public const string LagName = "milvus_cdc_replicate_lag_ms";

    private readonly TimeProvider _clock;
    private readonly Gauge _timeTick;
    private readonly Counter _dataSize;
    private readonly Counter _dataCount;
    private readonly Counter _apiExecuted;
    private readonly Counter _replayedRows;
    private readonly Gauge _bufferBytes;
    private readonly Gauge _bufferMessages;
    private readonly Gauge _centerTimeTick;

    public CdcReplicationMetrics(MetricsRegistry registry, TimeProvider clock)
    {
        _clock = clock;
        _timeTick = registry.Gauge("milvus_cdc_replicate_tt",
            "physical time (Unix ms) of the last message read or written per virtual channel", "task_id", "vchannel_name", "op_type");
        _dataSize = registry.Counter("milvus_cdc_replicate_data_size",
            "bytes of messages read or written", "task_id", "vchannel_name", "op_type", "msg_type");
        _dataCount = registry.Counter("milvus_cdc_replicate_data_cnt",
            "rows read or written per collection", "task_id", "collection_id", "collection_name", "op_type", "api_type");
        _apiExecuted = registry.Counter("milvus_cdc_api_execute_total",
            "target API calls made for a task", "task_id", "api_type");
        _replayedRows = registry.Counter("milvus_cdc_replayed_rows_total",
            "rows possibly sent twice: re-sent after a server died, from its last checkpoint to where the next one would have been", "task_id");
        _bufferBytes = registry.Gauge("milvus_cdc_buffer_bytes",
            "bytes waiting in a task's buffer for a channel", "task_id", "channel");
        _bufferMessages = registry.Gauge("milvus_cdc_buffer_messages",
            "messages waiting in a task's buffer for a channel", "task_id", "channel");
        _centerTimeTick = registry.Gauge("milvus_cdc_center_tt",
            "physical time (Unix ms) of the last time tick seen on a source channel", "channel_name");
    }

    public string Name => "replication lag";

    public void ReplicateTimeTick(string taskId, string vchannel, ReplicateOperation operation, long physicalMs) =>
        _timeTick.WithLabels(taskId, vchannel, Op(operation)).Set(physicalMs);

    public void ReplicatedData(string taskId, string vchannel, ReplicateOperation operation, string msgType, long bytes) =>
        _dataSize.WithLabels(taskId, vchannel, Op(operation), msgType).Inc(bytes);

    public void ReplicatedRows(string taskId, long collectionId, string collectionName, ReplicateOperation operation, string apiType, long count) =>
        _dataCount.WithLabels(taskId, collectionId.ToString(CultureInfo.InvariantCulture), collectionName, Op(operation), apiType).Inc(count);

    public void ApiExecuted(string taskId, string apiType) => _apiExecuted.WithLabels(taskId, apiType).Inc();

    public void ReplayedRows(string taskId, long count) => _replayedRows.WithLabels(taskId).Inc(count);

    public void BufferFill(string taskId, string channel, long bytes, int messages)
    {
        _bufferBytes.WithLabels(taskId, channel).Set(bytes);
        _bufferMessages.WithLabels(taskId, channel).Set(messages);
    }

    public void SourceTimeTick(string channel, long physicalMs) => _centerTimeTick.WithLabels(channel).Set(physicalMs);

    public void ForgetTask(string taskId)
    {
        _timeTick.RemoveWhere("task_id", taskId);
        _dataSize.RemoveWhere("task_id", taskId);
        _dataCount.RemoveWhere("task_id", taskId);
        _apiExecuted.RemoveWhere("task_id", taskId);
        _replayedRows.RemoveWhere("task_id", taskId);
        _bufferBytes.RemoveWhere("task_id", taskId);
        _bufferMessages.RemoveWhere("task_id", taskId);
    }

    public Task<IReadOnlyList<MetricFamilySnapshot>> CollectAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var write = Op(ReplicateOperation.Write);
        var samples = _timeTick.CurrentSeries()
            .Where(s => s.Labels.Values[2] == write)
            .Select(s => new MetricSample(LagName,
                [new("task_id", s.Labels.Values[0]), new("channel", s.Labels.Values[1])],
                Math.Max(0, now - s.Child.Value)))
            .ToList();
        IReadOnlyList<MetricFamilySnapshot> families =
            [new MetricFamilySnapshot(LagName, "ms between now and the last time tick written to the target per channel", MetricType.Gauge, samples)];
        return Task.FromResult(families);
    }

    private static string Op(ReplicateOperation operation) => operation == ReplicateOperation.Read ? "read" : "write";
}
