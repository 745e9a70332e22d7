using System.Collections.Concurrent;
using System.Globalization;
using Cdc.Application.Metrics;
using Prometheus;

namespace Cdc.Infrastructure.Metrics;

/// <summary>
/// <see cref="ICdcMetrics"/> on the server's prometheus-net registry, with the reference's names and labels. The lag
/// gauge <c>milvus_cdc_replicate_lag_ms{task_id,channel}</c> is set before each scrape to now minus the last written
/// time tick of the channel, so a stalled replication shows a growing lag.
/// </summary>
public sealed class CdcReplicationMetrics : ICdcMetrics
{
    public const string LagName = "milvus_cdc_replicate_lag_ms";

    private const string TaskLabel = "task_id";
    private const string ReadOp = "read";
    private const string WriteOp = "write";

    private readonly TimeProvider _clock;
    private readonly Gauge _timeTick;
    private readonly Counter _dataSize;
    private readonly Counter _dataCount;
    private readonly Counter _apiExecuted;
    private readonly Counter _replayedRows;
    private readonly Gauge _bufferBytes;
    private readonly Gauge _bufferMessages;
    private readonly Gauge _centerTimeTick;
    private readonly Gauge _lag;

    /// <summary>The write side's time-tick series per task and channel: what the lag is computed from.</summary>
    private readonly ConcurrentDictionary<(string TaskId, string Channel), Gauge.Child> _writtenTicks = new();

    /// <summary>Held while the lag is set and while a task is forgotten: a scrape cannot bring back a forgotten task's lag.</summary>
    private readonly Lock _lagGate = new();

    public CdcReplicationMetrics(CollectorRegistry registry, TimeProvider clock)
    {
        _clock = clock;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _timeTick = factory.CreateGauge("milvus_cdc_replicate_tt",
            "physical time (Unix ms) of the last message read or written per virtual channel", [TaskLabel, "vchannel_name", "op_type"]);
        _dataSize = factory.CreateCounter("milvus_cdc_replicate_data_size",
            "bytes of messages read or written", [TaskLabel, "vchannel_name", "op_type", "msg_type"]);
        _dataCount = factory.CreateCounter("milvus_cdc_replicate_data_cnt",
            "rows read or written per collection", [TaskLabel, "collection_id", "collection_name", "op_type", "api_type"]);
        _apiExecuted = factory.CreateCounter("milvus_cdc_api_execute_total",
            "target API calls made for a task", [TaskLabel, "api_type"]);
        _replayedRows = factory.CreateCounter("milvus_cdc_replayed_rows_total",
            "rows possibly sent twice: re-sent after a server died, from its last checkpoint to where the next one would have been", [TaskLabel]);
        _bufferBytes = factory.CreateGauge("milvus_cdc_buffer_bytes",
            "bytes waiting in a task's buffer for a channel", [TaskLabel, "channel"]);
        _bufferMessages = factory.CreateGauge("milvus_cdc_buffer_messages",
            "messages waiting in a task's buffer for a channel", [TaskLabel, "channel"]);
        _centerTimeTick = factory.CreateGauge("milvus_cdc_center_tt",
            "physical time (Unix ms) of the last time tick seen on a source channel", ["channel_name"]);
        _lag = factory.CreateGauge(LagName,
            "ms between now and the last time tick written to the target per channel", [TaskLabel, "channel"]);
        // In memory and quick: the synchronous callback, which prometheus-net runs before every collection.
        registry.AddBeforeCollectCallback(UpdateLag);
    }

    public void ReplicateTimeTick(string taskId, string vchannel, ReplicateOperation operation, long physicalMs)
    {
        var series = operation == ReplicateOperation.Write
            ? _writtenTicks.GetOrAdd((taskId, vchannel), static (key, tt) => tt.WithLabels(key.TaskId, key.Channel, WriteOp), _timeTick)
            : _timeTick.WithLabels(taskId, vchannel, ReadOp);
        series.Set(physicalMs);
    }

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
        lock (_lagGate)
        {
            foreach (var key in _writtenTicks.Keys)
                if (key.TaskId == taskId) _writtenTicks.TryRemove(key, out _);
            RemoveSeriesOf(_lag, taskId);
        }
        RemoveSeriesOf(_timeTick, taskId);
        RemoveSeriesOf(_dataSize, taskId);
        RemoveSeriesOf(_dataCount, taskId);
        RemoveSeriesOf(_apiExecuted, taskId);
        RemoveSeriesOf(_replayedRows, taskId);
        RemoveSeriesOf(_bufferBytes, taskId);
        RemoveSeriesOf(_bufferMessages, taskId);
    }

    private void UpdateLag()
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_lagGate)
        {
            foreach (var ((taskId, channel), written) in _writtenTicks)
                _lag.WithLabels(taskId, channel).Set(Math.Max(0, now - written.Value));
        }
    }

    private static void RemoveSeriesOf<TChild>(Collector<TChild> family, string taskId) where TChild : ChildBase
    {
        var index = Array.IndexOf(family.LabelNames, TaskLabel);
        foreach (var labelValues in family.GetAllLabelValues().Where(values => values[index] == taskId).ToList())
            family.RemoveLabelled(labelValues);
    }

    private static string Op(ReplicateOperation operation) => operation == ReplicateOperation.Read ? ReadOp : WriteOp;
}
