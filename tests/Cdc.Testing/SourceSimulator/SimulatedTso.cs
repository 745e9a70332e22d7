using Cdc.Domain.Changes;

namespace Cdc.Testing.SourceSimulator;

/// <summary>
/// The simulated root coordinator's timestamp oracle: hybrid timestamps from the clock, strictly increasing.
/// Milvus allocates object ids from a TSO too, so ids look like real ones (e.g. 445993766148522019).
/// </summary>
public sealed class SimulatedTso(TimeProvider time)
{
    private readonly Lock _gate = new();
    private ulong _last;

    public HybridTimestamp Next()
    {
        lock (_gate)
        {
            var now = HybridTimestamp.FromTime(time.GetUtcNow()).Value;
            _last = Math.Max(now, _last + 1);
            return new HybridTimestamp(_last);
        }
    }

    public long NextId() => (long)Next().Value;
}
