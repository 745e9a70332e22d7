using Cdc.Domain.Changes;

namespace Cdc.Testing.SourceSimulator;

/// <summary>One message the simulator wrote: the topic (pchannel or replicate channel), its offset and timestamp.</summary>
public sealed record SimulatedMessage(string Channel, long Offset, HybridTimestamp Timestamp, string MsgType);
