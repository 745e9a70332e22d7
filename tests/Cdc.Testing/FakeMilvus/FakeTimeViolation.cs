namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// A message that arrived on a target pchannel out of the channel's time order, as a Milvus consumer of that pchannel
/// would see it (milvus-io/milvus pkg/mq/msgstream/mq_msgstream.go, MqTtMsgStream, takes the messages up to each time
/// tick as one pack): a time tick below the last one, or an Insert, Delete or drop not above the last tick.
/// </summary>
/// <param name="Channel">The target pchannel.</param>
/// <param name="Kind">What arrived: TimeTick, Insert, Delete, DropCollection, DropPartition.</param>
/// <param name="Timestamp">Its timestamp (for an Insert or Delete, the lowest of its row and message timestamps).</param>
/// <param name="LastTick">The highest time tick the channel had received before it.</param>
public sealed record FakeTimeViolation(string Channel, string Kind, ulong Timestamp, ulong LastTick)
{
    public override string ToString() =>
        $"{Kind} at {Timestamp} on {Channel} after the tick at {LastTick} ({(long)(LastTick >> 18) - (long)(Timestamp >> 18)} ms back)";
}
