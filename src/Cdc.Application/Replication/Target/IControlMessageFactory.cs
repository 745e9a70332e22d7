using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>Builds the msgstream messages the replicator itself adds to what it forwards (as zilliztech/milvus-cdc core/writer/channel_writer.go adds a time tick to each pack).</summary>
public interface IControlMessageFactory
{
    /// <summary>
    /// A TimeTickMsg payload as the reference CDC appends to every pack: base{msg_type=TimeTick, msgID=0,
    /// timestamp=<paramref name="timestamp"/>, sourceID=-1}.
    /// </summary>
    byte[] BuildTimeTick(HybridTimestamp timestamp);
}
