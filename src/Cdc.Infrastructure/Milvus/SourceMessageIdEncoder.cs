using Cdc.Application.Replication.Ports;
using Cdc.Domain.Changes;

namespace Cdc.Infrastructure.Milvus;

/// <summary>Message ids as Milvus stores them in MsgPosition.msgID (see <see cref="SourceMessageIdCodec"/>).</summary>
public sealed class SourceMessageIdEncoder : ISourceMessageIdEncoder
{
    public byte[] Encode(SourceMessageId id) => SourceMessageIdCodec.ToBytes(id);
}
