using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Routing;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// Writes packs to one target pchannel through ReplicateMessage, one call at a time (as zilliztech/milvus-cdc's
/// core/writer/channel_writer.go serializes the calls of a channel): ids and shard names come from the task's
/// <see cref="RouteTable"/>, timestamps from the channel's <see cref="TargetTimestampRewriter"/>. The timestamp state
/// advances when the target acknowledged a call; after a failed call, which the target may have taken all the same, a
/// retry of the pack goes above what that call carried. With a
/// <see cref="TargetTimeReservation"/>, the channel continues above the time an earlier run of the task reserved, and
/// nothing goes out above the reservation before a higher one is written, so time never goes back on the channel
/// across runs.
/// </summary>
public sealed class TargetChannelWriter(
    IMilvusTarget target, TargetTimestampRewriter timestamps, RouteTable routes, TargetTimeReservation? reservation = null) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TargetTimestampRewriter _timestamps = timestamps;
    private bool _started;
    private HybridTimestamp _highestSent = HybridTimestamp.Zero;

    public string TargetChannel => _timestamps.TargetChannel;

    /// <summary>The highest timestamp the target acknowledged on the channel.</summary>
    public HybridTimestamp MaxSent => _timestamps.MaxSent;

    /// <summary>
    /// The highest timestamp sent on the channel, or being sent, acknowledged or not (a call the target may have taken
    /// before it failed or was cancelled), or reserved by an earlier run: what the channel's time is above.
    /// </summary>
    public HybridTimestamp HighestSent => _highestSent;

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
            await StartAsync(cancellationToken);
            if (_timestamps.Prepare(pack, routes.RewriteFor) is not { } prepared) return false;
            await SendAsync(prepared.Request, cancellationToken);
            _timestamps.Acknowledge(prepared);
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
            await StartAsync(cancellationToken);
            if (!_timestamps.AcceptsAhead(ahead.BeginTs)) return false;
            var prepared = _timestamps.PrepareAhead(ahead, routes.RewriteFor);
            await SendAsync(prepared.Request, cancellationToken);
            _timestamps.Acknowledge(prepared);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies something the target writes to several pchannels at one timestamp (a drop: Milvus writes it to each
    /// pchannel of the collection), in the time order of each: the timestamp is <paramref name="atLeast"/> or, when
    /// that is not above what one of the channels was sent, the first timestamp above all of them; it is reserved on
    /// each, <paramref name="apply"/> is called with it (retried inside as the caller decides) and every channel's time
    /// then stands at it. The channels' writers are held meanwhile (taken in name order, as every such call does).
    /// </summary>
    public static async Task StampAsync(
        IReadOnlyCollection<TargetChannelWriter> writers, HybridTimestamp atLeast, Func<HybridTimestamp, CancellationToken, Task> apply, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writers);
        ArgumentNullException.ThrowIfNull(apply);
        var ordered = writers.DistinctBy(w => w.TargetChannel, StringComparer.Ordinal).OrderBy(w => w.TargetChannel, StringComparer.Ordinal).ToList();
        var held = new List<TargetChannelWriter>(ordered.Count);
        try
        {
            foreach (var writer in ordered)
            {
                await writer._gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                held.Add(writer);
                await writer.StartAsync(cancellationToken);
            }

            var floor = ordered.Select(w => Max(w._highestSent, w.MaxSent)).DefaultIfEmpty(HybridTimestamp.Zero).Max();
            var stamp = atLeast > floor ? atLeast : new HybridTimestamp(floor.Value + 1);
            foreach (var writer in ordered) await writer.ReserveAsync(stamp, cancellationToken);
            await apply(stamp, cancellationToken);
            foreach (var writer in ordered) writer._timestamps.AcknowledgeAt(stamp);
        }
        finally
        {
            foreach (var writer in held) writer._gate.Release();
        }
    }

    /// <summary>
    /// At a clean stop, once nothing is being sent: the channel's reservation comes down to the highest timestamp sent,
    /// so the next run continues right above it instead of above the margin.
    /// </summary>
    public async Task SettleAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_started && reservation is not null) await reservation.SettleAsync(_highestSent, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>On first use: the channel continues above what an earlier run of the task reserved on it.</summary>
    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_started) return;
        if (reservation is not null && await reservation.LoadAsync(cancellationToken) is { } reserved)
        {
            _timestamps.ContinueAfter(reserved);
            _highestSent = reserved;
        }

        _started = true;
    }

    private async Task SendAsync(TargetReplicatePack request, CancellationToken cancellationToken)
    {
        await ReserveAsync(request.EndTs, cancellationToken);
        try
        {
            await target.ReplicateMessageAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The target may have taken the call before it failed (a lost answer, a deadline): what is sent next, the
            // retry of the same pack included, goes above it.
            _timestamps.ContinueAfter(_highestSent);
            throw;
        }
    }

    /// <summary>Everything up to <paramref name="upTo"/> may go out: reserved first (written ahead), then counted as sent.</summary>
    private async Task ReserveAsync(HybridTimestamp upTo, CancellationToken cancellationToken)
    {
        if (reservation is not null) await reservation.CoverAsync(upTo, Max(_highestSent, upTo), cancellationToken);
        _highestSent = Max(_highestSent, upTo);
    }

    private static HybridTimestamp Max(HybridTimestamp a, HybridTimestamp b) => a > b ? a : b;

    public void Dispose() => _gate.Dispose();
}
