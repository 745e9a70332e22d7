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
/// Where each of a task's source channels starts reading, and what it skips at its start.
/// <list type="bullet">
/// <item>A channel with a checkpoint: after it (exclusive).</item>
/// <item>The replicate channel: after <c>rpc_channel_info.position</c>, else the task's <c>start_from</c>.</item>
/// <item>A DML channel: the earliest of the requested <c>positions</c> of its selected collections (after it), and the
/// start position of a collection whose entry says <c>use_start_position</c>; else the task's <c>start_from</c>
/// (the latest message, the earliest one kept, or a time).</item>
/// <item>A channel of a collection created while the task runs: from the collection's start position.</item>
/// </list>
/// Whatever a channel starts at, a change before the task's start time, and a row change of a collection at or before
/// that collection's requested position on its shard, is skipped (<see cref="IsBeforeStart"/>): a channel shared by
/// collections starts at the earliest position any of them asks for.
/// </summary>
public sealed class ChannelStarts
{
    private readonly TaskRunContext _context;
    private readonly string _replicateChannel;
    private readonly ISourcePositionCodec? _positions;
    private readonly CollectionSelection _selection;
    private readonly ReplicationStart _start;
    private readonly HybridTimestamp? _notBefore;

    // The decoded positions of the selection's entries: (entry, vchannel) → position.
    private readonly Dictionary<(CollectionInfo Entry, string VirtualChannel), MsgPositionToken> _requested = [];

    public ChannelStarts(TaskRunContext context, string replicateChannel, ISourcePositionCodec? positions)
    {
        _context = context;
        _replicateChannel = replicateChannel;
        _positions = positions;
        _selection = context.Definition.Selection;
        _start = context.Definition.Start ?? ReplicationStart.Latest;
        _notBefore = _start is { Kind: ReplicationStartKind.Time, Time: { } time } ? HybridTimestamp.FromTime(time) : null;
        var entries = (_selection.CollectionInfos ?? []).Concat(_selection.DbCollections?.Values.SelectMany(e => e) ?? []);
        foreach (var entry in entries)
        {
            foreach (var (vchannel, base64) in entry.Positions ?? new Dictionary<string, string>())
                _requested[(entry, vchannel)] = Decode(base64, $"the position of {entry.Name} on {vchannel}");
        }
    }

    /// <summary>The replicate channel's start.</summary>
    public ChannelStart ReplicateChannel()
    {
        if (Checkpoint(_replicateChannel) is { } checkpoint) return checkpoint;
        if (_context.Definition.RpcChannel?.Position is not { Length: > 0 } requested) return new(TaskStart(), null);
        return new(SourceChannelStart.After(new SourcePosition(_replicateChannel, Decode(requested, "rpc_channel_info.position").MessageId)), null);
    }

    /// <summary>A DML channel read from the task's start (see the class summary).</summary>
    public ChannelStart DmlChannel(string pchannel, RouteTable routes)
    {
        if (Checkpoint(pchannel) is { } checkpoint) return checkpoint;
        var candidates = new List<(HybridTimestamp At, byte[] MessageId)>();
        foreach (var route in routes.All)
        {
            if (_selection.EntryFor(route.Source.DbName, route.Source.Name) is not { } entry) continue;
            candidates.AddRange(_requested
                .Where(p => p.Key.Entry == entry && ChannelMapping.ToPhysical(p.Key.VirtualChannel) == pchannel)
                .Select(p => (new HybridTimestamp(p.Value.Timestamp), p.Value.MessageId)));
            if (entry.UseStartPosition && route.Source.StartPositions.TryGetValue(pchannel, out var created))
                candidates.Add((route.Source.CreatedTimestamp, created.ToArray()));
        }

        return candidates.Count == 0
            ? new(TaskStart(), null)
            : new(SourceChannelStart.After(new SourcePosition(pchannel, candidates.MinBy(c => c.At.Value).MessageId)), null);
    }

    /// <summary>A DML channel first read for a collection created while the task runs: from the collection's start position.</summary>
    public ChannelStart NewCollectionChannel(string pchannel, SourceCollection collection) =>
        Checkpoint(pchannel) ?? new(collection.StartPositions.TryGetValue(pchannel, out var id)
            ? SourceChannelStart.After(new SourcePosition(pchannel, id))
            : SourceChannelStart.Latest, null);

    /// <summary>
    /// Whether a change comes before where the task starts: before its start time (<c>start_from</c> a time), or a row
    /// change of a collection at or before the position requested for its shard. Time ticks always pass.
    /// </summary>
    public bool IsBeforeStart(SourceChange change)
    {
        if (change is TimeTickChange) return false;
        if (_notBefore is { } notBefore && change.Timestamp < notBefore) return true;
        if (_requested.Count == 0) return false;
        var (db, collection, shard) = change switch
        {
            InsertChange i => (i.DbName, i.CollectionName, i.ShardName),
            DeleteChange d => (d.DbName, d.CollectionName, d.ShardName),
            _ => (null, null, null),
        };
        return collection is not null
               && _selection.EntryFor(db, collection) is { } entry
               && _requested.TryGetValue((entry, shard!), out var position)
               && change.Timestamp.Value <= position.Timestamp;
    }

    private SourceChannelStart TaskStart() => _start.Kind switch
    {
        ReplicationStartKind.Earliest => SourceChannelStart.Earliest,
        ReplicationStartKind.Time => SourceChannelStart.AtTime(_start.Time!.Value),
        _ => SourceChannelStart.Latest,
    };

    private MsgPositionToken Decode(string base64, string what)
    {
        if (_positions is null) throw ReplicationHalted.Because($"{what} is set but this server cannot read positions");
        try
        {
            return _positions.Decode(base64);
        }
        catch (FormatException ex)
        {
            throw ReplicationHalted.Because($"fail to decode {what}: {ex.Message}", ex);
        }
    }

    private ChannelStart? Checkpoint(string channel)
    {
        var checkpoint = _context.Checkpoints.LastOrDefault(c => c.Channel == channel);
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
