using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// What a DML channel loop hands its packs to: <see cref="TargetPackWriter"/> (apply mode "replicate",
/// ReplicateMessage) or <see cref="UpsertWriter"/> (apply mode "upsert", the target's normal RPCs). Either returns
/// only once the target acknowledged what it wrote, so the loop may checkpoint then.
/// </summary>
public interface IDmlWriter : IDisposable
{
    /// <summary>Writes a pack's changes and applies its drops once every shard carried them.</summary>
    Task WritePackAsync(ChangePack pack, CancellationToken ct);

    /// <summary>
    /// Writes an Insert or Delete ahead of the tick that closes its pack, when the writer can do so without changing
    /// what the target ends up with; false (nothing written) when it must wait for its pack.
    /// </summary>
    /// <param name="position">The change's own position, a checkpoint once written.</param>
    /// <param name="lastTick">The last tick of the change's channel.</param>
    Task<bool> TryWriteAheadAsync(SourceChange change, SourcePosition position, HybridTimestamp lastTick, CancellationToken ct);

    /// <summary>At a clean stop, once no loop writes any more: what the writer keeps across runs brought up to date.</summary>
    Task SettleAsync(CancellationToken ct);
}
