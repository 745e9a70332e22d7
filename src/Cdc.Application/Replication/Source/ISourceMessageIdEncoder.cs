using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Source;

/// <summary>The bytes Milvus keeps as MsgPosition.msgID for a source message id (Kafka: 8-byte little-endian offset).</summary>
public interface ISourceMessageIdEncoder
{
    byte[] Encode(SourceMessageId id);
}
