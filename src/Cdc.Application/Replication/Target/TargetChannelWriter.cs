using Cdc.Application.Replication.Packing;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// Writes packs to one target pchannel through ReplicateMessage, one call at a time (milvus-wire.md §5.1): ids and
/// shard names come from <c>targetIds</c>, timestamps from the channel's <see cref="TargetTimestampRewriter"/>.
/// The timestamp state only advances after the target acknowledged a call, so a failed call can be retried with the
/// same pack.
/// </summary>
public sealed class TargetChannelWriter : IDisposable
{
    private readonly IMilvusTarget _target;
    private readonly TargetTimestampRewriter _timestamps;
    private readonly Func<SourceChange, DmlRewrite> _targetIds;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <param name="target">The target Milvus.</param>
    /// <param name="timestamps">The timestamp state of the target channel this writer owns.</param>
    /// <param name="targetIds">The target collection/partition ids, vchannel and names for a change.</param>
    public TargetChannelWriter(IMilvusTarget target, TargetTimestampRewriter timestamps, Func<SourceChange, DmlRewrite> targetIds)
    {
        _target = target ?? throw new ArgumentNullException(nameof(target));
        _timestamps = timestamps ?? throw new ArgumentNullException(nameof(timestamps));
        _targetIds = targetIds ?? throw new ArgumentNullException(nameof(targetIds));
    }

    public string TargetChannel => _timestamps.TargetChannel;

    /// <summary>The highest timestamp the target acknowledged on the channel.</summary>
    public HybridTimestamp MaxSent => _timestamps.MaxSent;

    /// <summary>Sends <paramref name="pack"/> (unless it is a time tick that need not go out) and returns the checkpoint.</summary>
    /// <exception cref="MilvusTargetException">The target refused the pack (after its own retries).</exception>
    public async Task<TargetWriteResult> WriteAsync(ChangePack pack, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pack);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var prepared = _timestamps.Prepare(pack, _targetIds);
            if (prepared is null)
            {
                return new TargetWriteResult(pack.EndPosition, Sent: false, TargetPosition: null);
            }

            var position = await _target.ReplicateMessageAsync(prepared.Request, cancellationToken).ConfigureAwait(false);
            _timestamps.Acknowledge(prepared);
            return new TargetWriteResult(prepared.Checkpoint, Sent: true, position);
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
            if (!_timestamps.AcceptsAhead(ahead.BeginTs))
            {
                return false;
            }

            var prepared = _timestamps.PrepareAhead(ahead, _targetIds);
            await _target.ReplicateMessageAsync(prepared.Request, cancellationToken).ConfigureAwait(false);
            _timestamps.Acknowledge(prepared);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
