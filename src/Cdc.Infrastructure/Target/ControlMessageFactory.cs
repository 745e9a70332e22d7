using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Google.Protobuf;

namespace Cdc.Infrastructure.Target;

/// <summary>The msgstream messages the replicator adds itself, encoded as the reference CDC encodes them.</summary>
public sealed class ControlMessageFactory : IControlMessageFactory
{
    public byte[] BuildTimeTick(HybridTimestamp timestamp) => new TimeTickMsg
    {
        Base = new MsgBase { MsgType = MsgType.TimeTick, MsgID = 0, Timestamp = timestamp.Value, SourceID = -1 },
    }.ToByteArray();
}
