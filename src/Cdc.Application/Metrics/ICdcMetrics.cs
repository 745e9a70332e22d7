namespace Cdc.Application.Metrics;

/// <summary>
/// What the replication engine reports for monitoring (the reference's <c>milvus_cdc_replicate_*</c> metrics and
/// the buffer and lag gauges). Calls are cheap, thread-safe and never throw for valid arguments.
/// </summary>
public interface ICdcMetrics
{
    /// <summary>The physical time (Unix ms) of the last message read or written on a virtual channel.</summary>
    void ReplicateTimeTick(string taskId, string vchannel, ReplicateOperation operation, long physicalMs);

    /// <summary>Bytes of one message of type <paramref name="msgType"/> (e.g. <c>Insert</c>) read or written.</summary>
    void ReplicatedData(string taskId, string vchannel, ReplicateOperation operation, string msgType, long bytes);

    /// <summary>Rows of a collection read or written by <paramref name="apiType"/> (<c>insert</c> or <c>delete</c>).</summary>
    void ReplicatedRows(string taskId, long collectionId, string collectionName, ReplicateOperation operation, string apiType, long count);

    /// <summary>
    /// Rows sent again after a server died: written after the last checkpoint of the previous run and before it
    /// could have recorded the next one (at most one checkpoint interval of data).
    /// </summary>
    void ReplayedRows(string taskId, long count);

    /// <summary>One call of a target API (e.g. <c>CreateCollection</c>) made for a task.</summary>
    void ApiExecuted(string taskId, string apiType);

    /// <summary>What waits in a task's buffer for a channel: bytes and messages.</summary>
    void BufferFill(string taskId, string channel, long bytes, int messages);

    /// <summary>The physical time (Unix ms) of the last time tick seen on a source physical channel.</summary>
    void SourceTimeTick(string channel, long physicalMs);

    /// <summary>Drops every series of a task (its replication stopped for good, e.g. deleted).</summary>
    void ForgetTask(string taskId);
}
