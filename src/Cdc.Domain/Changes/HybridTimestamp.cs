namespace Cdc.Domain.Changes;

/// <summary>
/// A Milvus hybrid timestamp (TSO): physical Unix milliseconds shifted left by 18 bits, OR-ed with an
/// 18-bit logical counter. Ordering of hybrid timestamps is the ordering of their raw values.
/// </summary>
public readonly record struct HybridTimestamp(ulong Value) : IComparable<HybridTimestamp>
{
    public const int LogicalBits = 18;
    public const ulong LogicalMask = (1UL << LogicalBits) - 1;
    public const long MaxPhysicalMilliseconds = (long)(ulong.MaxValue >> LogicalBits);

    public static readonly HybridTimestamp Zero = new(0);

    /// <summary>Unix epoch milliseconds.</summary>
    public long PhysicalMilliseconds => (long)(Value >> LogicalBits);

    public int Logical => (int)(Value & LogicalMask);

    public DateTimeOffset PhysicalTime => DateTimeOffset.FromUnixTimeMilliseconds(PhysicalMilliseconds);

    public static HybridTimestamp FromParts(long physicalMilliseconds, int logical = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(physicalMilliseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(physicalMilliseconds, MaxPhysicalMilliseconds);
        ArgumentOutOfRangeException.ThrowIfNegative(logical);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((ulong)logical, LogicalMask);
        return new HybridTimestamp(((ulong)physicalMilliseconds << LogicalBits) | (uint)logical);
    }

    public static HybridTimestamp FromTime(DateTimeOffset time, int logical = 0) =>
        FromParts(time.ToUnixTimeMilliseconds(), logical);

    /// <summary>The first timestamp after the given physical millisecond, as the reference CDC seeks on resume.</summary>
    public static HybridTimestamp AfterPhysical(long physicalMilliseconds) => FromParts(physicalMilliseconds + 1);

    public int CompareTo(HybridTimestamp other) => Value.CompareTo(other.Value);

    public static bool operator <(HybridTimestamp left, HybridTimestamp right) => left.Value < right.Value;
    public static bool operator >(HybridTimestamp left, HybridTimestamp right) => left.Value > right.Value;
    public static bool operator <=(HybridTimestamp left, HybridTimestamp right) => left.Value <= right.Value;
    public static bool operator >=(HybridTimestamp left, HybridTimestamp right) => left.Value >= right.Value;

    public override string ToString() => $"{Value} ({PhysicalTime:yyyy-MM-ddTHH:mm:ss.fffZ}+{Logical})";
}
