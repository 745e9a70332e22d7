using System.Buffers;

namespace Cdc.Infrastructure.Source;

/// <summary>
/// The arrays source messages are read into. A large one (an Insert's rows: a Kafka record's value, a Pulsar frame, a
/// Pulsar entry decompressed) is rented from a pool and lent to the run through <see cref="LentMessageArrays{TPoint}"/>
/// until the run has completed its messages; without the pool each 3 MB Insert was a new large-object-heap array, and the
/// GC kept hundreds of MB of them committed between its rare full collections. A small one (time ticks, deletes, DDL) is
/// an array of its own. Arrays are not zeroed first: the caller overwrites every byte it uses.
/// </summary>
internal static class MessageArrays
{
    /// <summary>Messages from this size on are pooled: below the large-object heap's 85,000 bytes the GC copes well.</summary>
    public const int PooledFrom = 64 * 1024;

    public static bool IsPooled(long length) => length >= PooledFrom;

    /// <summary>An array of at least <paramref name="length"/> bytes: rented from <paramref name="pool"/> when the length is pooled.</summary>
    public static byte[] Take(int length, ArrayPool<byte> pool) =>
        IsPooled(length) ? pool.Rent(length) : GC.AllocateUninitializedArray<byte>(length);
}

/// <summary>
/// The pooled arrays a channel reader has lent to the run, each with the position of the last message it carries, in
/// reading order. An array goes back to its pool once the run has completed that message
/// (<see cref="Application.Replication.Source.ISourceChannelReader.Completed"/>): until then a payload in it may still be
/// in a pack the target is being sent, or is to be sent again. An array never completed (the run stopped, a write
/// failed) stays out of the pool, and the GC takes it.
/// </summary>
internal sealed class LentMessageArrays<TPoint>(ArrayPool<byte> pool)
{
    private readonly Queue<(TPoint Last, byte[] Array)> _lent = new();

    public void Lend(TPoint last, byte[] array)
    {
        lock (_lent) _lent.Enqueue((last, array));
    }

    /// <summary>Returns, oldest first, every array whose last message <paramref name="isCompleted"/> says is done.</summary>
    public void ReturnCompleted(Func<TPoint, bool> isCompleted)
    {
        lock (_lent)
        {
            while (_lent.TryPeek(out var oldest) && isCompleted(oldest.Last))
            {
                _lent.Dequeue();
                pool.Return(oldest.Array);
            }
        }
    }
}
