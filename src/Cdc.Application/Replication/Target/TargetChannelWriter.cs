using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Routing;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// Writes packs to one target pchannel through ReplicateMessage, one call at a time (as zilliztech/milvus-cdc's
/// core/writer/channel_writer.go serializes the calls of a channel): ids and shard names come from the task's
/// <see cref="RouteTable"/>, timestamps from the channel's <see cref="TargetTimestampRewriter"/>. The timestamp state only
/// advances after the target acknowledged a call, so a failed call can be retried with the same pack.
/// </summary>
public sealed class TargetChannelWriter(IMilvusTarget target, TargetTimestampRewriter timestamps, RouteTable routes) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string TargetChannel => timestamps.TargetChannel;

    /// <summary>The highest timestamp the target acknowledged on the channel.</summary>
    public HybridTimestamp MaxSent => timestamps.MaxSent;

    /// <summary>
    /// Sends <paramref name="pack"/>, unless it is a time tick that need not go out; true when a call was made (the
    /// pack's end position may be checkpointed either way).
    /// </summary>
    /// <exception cref="MilvusTargetException">The target refused the pack.</exception>
    public async Task<bool> WriteAsync(ChangePack pack, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pack);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (timestamps.Prepare(pack, routes.RewriteFor) is not { } prepared) return false;
            await target.ReplicateMessageAsync(prepared.Request, cancellationToken).ConfigureAwait(false);
            timestamps.Acknowledge(prepared);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Sends changes ahead of their tick (<see cref="TargetTimestampRewriter.PrepareAhead"/>) when the channel's state
    /// allows it; false (nothing sent) when it does not, and the changes must wait for their pack.
    /// </summary>
    /// <param name="ahead">The changes, with their span's last tick as BeginTs and their own positions.</param>
    public async Task<bool> TryWriteAheadAsync(ChangePack ahead, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ahead);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!timestamps.AcceptsAhead(ahead.BeginTs)) return false;
            var prepared = timestamps.PrepareAhead(ahead, routes.RewriteFor);
            await target.ReplicateMessageAsync(prepared.Request, cancellationToken).ConfigureAwait(false);
            timestamps.Acknowledge(prepared);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
