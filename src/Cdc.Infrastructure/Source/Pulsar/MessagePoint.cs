using Cdc.Domain.Changes;
using Cdc.Infrastructure.Source.Pulsar.Protos;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// A message's place in a topic, ordered as Pulsar orders ids: ledger, entry (signed, so -1 is before 0), then batch
/// index, where -1 stands for a whole entry.
/// </summary>
internal readonly record struct MessagePoint(long Ledger, long Entry, int BatchIndex)
{
    /// <summary>The Pulsar clients' "latest" id (Long.MAX_VALUE, Long.MAX_VALUE).</summary>
    public static MessagePoint Latest { get; } = new(long.MaxValue, long.MaxValue, -1);

    public static MessagePoint Of(MessageIdData id) => new((long)id.LedgerId, (long)id.EntryId, id.BatchIndex);

    public static MessagePoint Of(PulsarMessageId id) => new((long)id.LedgerId, (long)id.EntryId, id.BatchIndex);

    /// <summary>Whether a message at this point comes after <paramref name="done"/>, all of whose entry is done when its batch index is -1.</summary>
    public bool IsAfter(MessagePoint done)
    {
        if (Ledger != done.Ledger) return Ledger > done.Ledger;
        if (Entry != done.Entry) return Entry > done.Entry;
        return done.BatchIndex >= 0 && BatchIndex > done.BatchIndex;
    }

    /// <summary>The id Milvus stores: partition 0, the client's own index of a non-partitioned topic.</summary>
    public PulsarMessageId ToMessageId() => new((ulong)Ledger, (ulong)Entry, 0, BatchIndex);

    public MessageIdData ToStartMessageId() => new()
    {
        LedgerId = (ulong)Ledger,
        EntryId = (ulong)Entry,
        Partition = -1,
        BatchIndex = BatchIndex,
    };

    public override string ToString() => ToMessageId().ToString();
}
