using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Checkpoints;

/// <summary>
/// After an unclean stop, the previous run may have sent packs past each checkpoint until it would have written the
/// next one, one checkpoint interval later: packs ending within that interval of source time are counted as possibly
/// sent twice (an estimate that assumes the lag did not change in that interval), for
/// <c>milvus_cdc_replayed_rows_total</c>.
/// </summary>
public sealed class ReplayCounter
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _until = new(StringComparer.Ordinal);
    private readonly TaskRunMonitor _monitor;

    public ReplayCounter(TaskRunContext context, TimeSpan checkpointInterval, TaskRunMonitor monitor, ILogger logger)
    {
        _monitor = monitor;
        if (!context.AfterUncleanStop || context.Checkpoints.Count == 0) return;
        foreach (var checkpoint in context.Checkpoints)
            _until[checkpoint.Channel] = new HybridTimestamp(checkpoint.Timestamp).PhysicalMilliseconds + (long)checkpointInterval.TotalMilliseconds;
        logger.LogWarning("task {TaskId}: the previous run did not stop cleanly; up to {Interval} of data per channel after the checkpoints may be sent twice",
            context.TaskId, checkpointInterval);
    }

    /// <summary>Counts the rows of a pack written again after an unclean stop.</summary>
    public void Count(ChangePack pack)
    {
        if (!_until.TryGetValue(pack.Channel, out var until)) return;
        if (pack.EndTs.PhysicalMilliseconds > until)
        {
            _until.TryRemove(pack.Channel, out _);
            return;
        }

        var rows = pack.Changes.Sum(c => c switch { InsertChange i => i.RowCount, DeleteChange d => d.RowCount, _ => 0 });
        if (rows > 0) _monitor.Replayed(rows);
    }
}
