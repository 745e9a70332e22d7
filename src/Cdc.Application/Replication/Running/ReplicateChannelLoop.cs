using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Target;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// The source's replicate channel, read in order: each operation (index, load/release, flush, database) applied to the
/// target through its normal RPCs and then checkpointed. When the run stops, reading stops at once, but an operation
/// already sent is not cancelled under the target's feet: its call runs on <c>inFlight</c>, which the run cancels a
/// grace period after the stop, so an answered operation is checkpointed and not sent again by the next run (no retry
/// starts after the stop).
/// </summary>
internal sealed class ReplicateChannelLoop(TaskRunStages stages, string taskId, ILogger logger)
{
    public Task RunAsync(string channel, ChannelStart start, ISourceChannelReader opened, CancellationToken ct, CancellationToken inFlight) =>
        stages.Reading.ReadAsync(channel, start.Start, opened, async (message, token) =>
        {
            var position = new SourcePosition(channel, stages.Ids.Encode(message.Id));
            if (stages.Decoding.Decode(message) is not { } change || stages.Starts.IsBeforeStart(change)) return position;

            // Failed after the stop (or cut at the end of the grace): not checkpointed, the next run applies it.
            var outcome = await InFlightWrites.StoppedIsCancelled(stages.Retry.RunAsync($"apply {change.Kind} from {change.Origin.Describe()}",
                _ => stages.Operations.ApplyAsync(change, inFlight), token), token);

            if (outcome != OperationOutcome.NotSelected)
                logger.LogInformation("task {TaskId}: {Kind} from {Origin}: {Outcome}", taskId, change.Kind, change.Origin.Describe(), outcome);
            stages.Checkpoints.Acknowledge(position, change.Timestamp);
            return position;
        }, () => { }, ct);
}
