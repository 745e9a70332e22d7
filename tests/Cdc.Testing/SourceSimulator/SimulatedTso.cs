using Cdc.Domain.Changes;

namespace Cdc.Testing.SourceSimulator;

/// <summary>
/// A timestamp oracle like Milvus' rootcoord TSO: hybrid timestamps (physical ms &lt;&lt; 18 | logical) from a
/// <see cref="TimeProvider"/>, strictly increasing even when the clock stands still or goes back. Milvus allocates
/// object ids from a TSO too, so <see cref="NextId"/> gives ids that look like real ones (e.g. 445993766148522019).
/// </summary>
public sealed class SimulatedTso(TimeProvider time)
{
    private readonly object _gate = new();
    private long _physical;
    private int _logical;

    public HybridTimestamp Next()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (now > _physical)
            {
                _physical = now;
                _logical = 0;
            }
            else if (++_logical > (int)HybridTimestamp.LogicalMask)
            {
                _physical++;
                _logical = 0;
            }

            return HybridTimestamp.FromParts(_physical, _logical);
        }
    }

    public long NextId() => (long)Next().Value;
}
