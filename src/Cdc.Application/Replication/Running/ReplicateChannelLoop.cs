using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Target;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// The source's replicate channel, read in order: each operation (index, load/release, flush, database) applied to the
/// target through its normal RPCs and then checkpointed.
/// </summary>
internal sealed class ReplicateChannelLoop(TaskRunStages stages, string taskId, ILogger logger)
{
    public Task RunAsync(string channel, ChannelStart start, ISourceChannelReader opened, CancellationToken ct) =>
        stages.Reading.ReadAsync(channel, start.Start, opened, async (message, token) =>
        {
            var position = new SourcePosition(channel, stages.Ids.Encode(message.Id));
            if (stages.Decoding.Decode(message) is not { } change || stages.Starts.IsBeforeStart(change)) return position;

            var outcome = await stages.Retry.RunAsync($"apply {change.Kind} from {change.Origin.Describe()}",
                t => stages.Operations.ApplyAsync(change, t), token);
            if (outcome != OperationOutcome.NotSelected)
                logger.LogInformation("task {TaskId}: {Kind} from {Origin}: {Outcome}", taskId, change.Kind, change.Origin.Describe(), outcome);
            stages.Checkpoints.Acknowledge(position, change.Timestamp);
            return position;
        }, () => { }, ct);
}
