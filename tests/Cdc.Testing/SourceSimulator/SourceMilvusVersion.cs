namespace Cdc.Testing.SourceSimulator;

/// <summary>Which message properties a simulated source sets (milvus-io/milvus pkg/mq/msgstream/mq_msgstream.go, Produce and Broadcast).</summary>
public enum SourceMilvusVersion
{
    /// <summary>2.3/2.4: only "msg_type", and only on produced (DML and replicate-channel) messages; broadcasts have none.</summary>
    V2_4,

    /// <summary>2.5: "vchannel", "msg_type", "timestamp" and "replicate_id" on every message.</summary>
    V2_5,
}
