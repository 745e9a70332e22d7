using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;

namespace Cdc.Infrastructure.Decoding;

/// <summary>Message ids as Milvus stores them in MsgPosition.msgID (see <see cref="SourceMessageIdCodec"/>).</summary>
public sealed class SourceMessageIdEncoder : ISourceMessageIdEncoder
{
    public byte[] Encode(SourceMessageId id) => SourceMessageIdCodec.ToBytes(id);
}
