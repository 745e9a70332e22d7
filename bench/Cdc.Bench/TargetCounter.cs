using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Testing.FakeMilvus;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Bench;

/// <summary>Counts the Insert and TimeTick messages of the ReplicateMessage calls the fake target acknowledged, and its Upsert calls.</summary>
internal sealed class TargetCounter(Action<ByteString>? onInsert, Action<ulong>? onTick)
{
    private static readonly MessageParser<MsgHeader> HeaderParser = MsgHeader.Parser.WithDiscardUnknownFields(true);
    private long _inserts;
    private long _insertBytes;
    private long _ticks;

    public long Inserts => Interlocked.Read(ref _inserts);

    public long InsertBytes => Interlocked.Read(ref _insertBytes);

    /// <summary>Time ticks the target acknowledged so far.</summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    public void OnHandled(FakeMilvusCall call, bool handled)
    {
        if (handled && call.Method == "Upsert")
        {
            Interlocked.Increment(ref _inserts);
            Interlocked.Add(ref _insertBytes, call.Request.CalculateSize());
            return;
        }

        if (!handled || call.Method != "ReplicateMessage")
        {
            return;
        }

        foreach (var message in call.RequestAs<Rpc.ReplicateMessageRequest>().Msgs)
        {
            var header = HeaderParser.ParseFrom(message).Base;
            if (header?.MsgType == MsgType.TimeTick)
            {
                Interlocked.Increment(ref _ticks);
                onTick?.Invoke(header.Timestamp);
            }

            if (header?.MsgType != MsgType.Insert)
            {
                continue;
            }

            Interlocked.Increment(ref _inserts);
            Interlocked.Add(ref _insertBytes, message.Length);
            onInsert?.Invoke(message);
        }
    }
}
