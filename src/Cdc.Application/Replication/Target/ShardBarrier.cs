namespace Cdc.Application.Replication.Target;

/// <summary>
/// Holds back a drop until every shard of the collection has seen it: a DropCollection (or DropPartition) message
/// arrives on each of the collection's vchannels, and applying it on the first would lose the data the other shards
/// still carry. <see cref="Arrive"/> answers true exactly once, for the last shard.
/// </summary>
public sealed class ShardBarrier<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, HashSet<string>> _waiting = new();
    private readonly Lock _lock = new();

    /// <summary>The shards (vchannels) that must all arrive for <paramref name="key"/>.</summary>
    public void Expect(TKey key, IEnumerable<string> shards)
    {
        lock (_lock)
        {
            if (!_waiting.ContainsKey(key)) _waiting[key] = new HashSet<string>(shards, StringComparer.Ordinal);
        }
    }

    /// <summary>Records that <paramref name="shard"/> saw the drop; true when it was the last one still awaited.</summary>
    /// <exception cref="InvalidOperationException">nothing is expected for the key.</exception>
    public bool Arrive(TKey key, string shard)
    {
        lock (_lock)
        {
            if (!_waiting.TryGetValue(key, out var remaining))
                throw new InvalidOperationException($"no shards are expected for {key}");
            if (!remaining.Remove(shard) || remaining.Count > 0) return false;
            _waiting.Remove(key);
            return true;
        }
    }

    /// <summary>The shards still awaited (for the position a drop waits at, and for diagnostics).</summary>
    public IReadOnlyCollection<string> Remaining(TKey key)
    {
        lock (_lock) return _waiting.TryGetValue(key, out var r) ? r.ToList() : [];
    }
}
