using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Replication.Checkpoints;

/// <summary>Where a channel's reading starts, and the source tick it stood at (null when unknown).</summary>
public sealed record ChannelStart(SourceChannelStart Start, HybridTimestamp? LastTick);

/// <summary>
/// Where each of a task's source channels starts reading: after its checkpoint (exclusive) when it has one; otherwise
/// the replicate channel after <c>rpc_channel_info.position</c> or at the latest message, and a DML channel at the start
/// position of the collection whose selection entry asks for it (<c>use_start_position</c>) or at the latest message.
/// </summary>
public sealed class ChannelStarts(TaskRunContext context, string replicateChannel, ISourcePositionCodec? positions)
{
    private readonly CollectionSelection _selection = context.Definition.Selection;

    /// <summary>The replicate channel's start.</summary>
    public ChannelStart ReplicateChannel()
    {
        if (Checkpoint(replicateChannel) is { } checkpoint) return checkpoint;
        if (context.Definition.RpcChannel?.Position is not { Length: > 0 } requested) return new(SourceChannelStart.Latest, null);
        if (positions is null) throw ReplicationHalted.Because("rpc_channel_info.position is set but this server cannot read positions");
        try
        {
            return new(SourceChannelStart.After(new SourcePosition(replicateChannel, positions.Decode(requested).MessageId)), null);
        }
        catch (FormatException ex)
        {
            throw ReplicationHalted.Because($"fail to decode the position data: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A DML channel read from the task's start: the start position of its earliest-created collection whose selection
    /// entry says <c>use_start_position</c>, else the latest message.
    /// </summary>
    public ChannelStart DmlChannel(string pchannel, RouteTable routes)
    {
        if (Checkpoint(pchannel) is { } checkpoint) return checkpoint;
        var first = routes.All
            .Where(r => _selection.EntryFor(r.Source.DbName, r.Source.Name)?.UseStartPosition == true && r.Source.StartPositions.ContainsKey(pchannel))
            .OrderBy(r => r.Source.CreatedTimestamp)
            .FirstOrDefault();
        return first is null
            ? new(SourceChannelStart.Latest, null)
            : new(SourceChannelStart.After(new SourcePosition(pchannel, first.Source.StartPositions[pchannel])), null);
    }

    /// <summary>A DML channel first read for a collection created while the task runs: from the collection's start position.</summary>
    public ChannelStart NewCollectionChannel(string pchannel, SourceCollection collection) =>
        Checkpoint(pchannel) ?? new(collection.StartPositions.TryGetValue(pchannel, out var id)
            ? SourceChannelStart.After(new SourcePosition(pchannel, id))
            : SourceChannelStart.Latest, null);

    private ChannelStart? Checkpoint(string channel)
    {
        var checkpoint = context.Checkpoints.LastOrDefault(c => c.Channel == channel);
        if (checkpoint is null) return null;
        try
        {
            return new(SourceChannelStart.After(SourcePosition.FromCheckpoint(channel, checkpoint.Position)), new HybridTimestamp(checkpoint.Timestamp));
        }
        catch (FormatException ex)
        {
            throw ReplicationHalted.Because($"the checkpoint of channel {channel} is not base64: '{checkpoint.Position}'", ex);
        }
    }
}
