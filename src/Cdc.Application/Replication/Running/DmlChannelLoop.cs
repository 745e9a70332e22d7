using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// One source DML pchannel of a task, read in order: each message decoded, packed per time tick, each pack written to the
/// target and then checkpointed (its closing tick); an Insert or Delete that may go ahead of its tick is written and
/// checkpointed at once (its own position, with the span's last tick as time). As on the replicate channel
/// (<see cref="ReplicateChannelLoop"/>), reading stops at once when the run stops, but the pack being written gets the
/// grace of <c>inFlight</c> (its retries included) to land and be checkpointed rather than being cut off and sent again
/// by the next run.
/// </summary>
internal sealed class DmlChannelLoop(TaskRunStages stages)
{
    public Task RunAsync(string pchannel, ChannelStart start, ISourceChannelReader? opened, CancellationToken ct, CancellationToken inFlight)
    {
        var packer = NewPacker(pchannel, start.LastTick);
        return stages.Reading.ReadAsync(pchannel, start.Start, opened, async (message, token) =>
        {
            if (stages.Decoding.Decode(message) is not { } change || stages.Starts.IsBeforeStart(change))
            {
                packer.Skip(message.Id);
                return null;
            }

            if (packer.Add(change) is not { } pack) return await InFlightWrites.StoppedIsCancelled(SendAheadAsync(packer, change, inFlight), token);
            await InFlightWrites.StoppedIsCancelled(stages.Writer.WritePackAsync(pack, inFlight), token);
            stages.Checkpoints.Acknowledge(pack.EndPosition, pack.EndTs);
            return pack.EndPosition;
        }, () => packer = NewPacker(pchannel, packer.LastTick), ct);
    }

    private TimeTickPacker NewPacker(string pchannel, HybridTimestamp? lastTick) => new(pchannel, stages.Routes.Selects, stages.Ids, lastTick);

    /// <summary>
    /// Sends a change ahead of its tick when nothing read before it in the span waits (see
    /// <see cref="Target.TargetPackWriter.TryWriteAheadAsync"/>); returns its position, now a checkpoint, or null.
    /// </summary>
    private async Task<SourcePosition?> SendAheadAsync(TimeTickPacker packer, SourceChange change, CancellationToken ct)
    {
        if (packer.LastTick is not { } lastTick || !packer.WaitsAlone(change)) return null;
        var position = new SourcePosition(packer.Channel, stages.Ids.Encode(change.Origin.Id));
        if (!await stages.Writer.TryWriteAheadAsync(change, position, lastTick, ct)) return null;
        packer.SentAhead(change);
        stages.Checkpoints.Acknowledge(position, lastTick);
        return position;
    }
}
