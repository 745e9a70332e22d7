using System.Text;

namespace Cdc.Infrastructure.Etcd;

/// <summary>The [key, range_end) byte interval etcd uses for a single key or every key under a prefix.</summary>
public readonly record struct EtcdKeyRange(byte[] Key, byte[] RangeEnd)
{
    /// <summary>
    /// Every key that starts with <paramref name="prefix"/>: range_end is the prefix with its last byte that is not
    /// 0xFF incremented and the rest cut off (<c>/cdc/</c> → <c>/cdc0</c>). A prefix of only 0xFF bytes, or an empty one,
    /// gives range_end = "\0", which etcd reads as "to the end of the key space".
    /// </summary>
    public static EtcdKeyRange ForPrefix(string prefix) => ForPrefix(Encoding.UTF8.GetBytes(prefix));

    /// <inheritdoc cref="ForPrefix(string)"/>
    public static EtcdKeyRange ForPrefix(byte[] prefix)
    {
        if (prefix.Length == 0) return new EtcdKeyRange([0], [0]);
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] == 0xFF) continue;
            var end = prefix[..(i + 1)];
            end[i]++;
            return new EtcdKeyRange(prefix, end);
        }
        return new EtcdKeyRange(prefix, [0]);
    }

    /// <summary>The smallest key after <paramref name="key"/>: used to continue a paged range.</summary>
    public static byte[] After(byte[] key) => [.. key, 0];
}
