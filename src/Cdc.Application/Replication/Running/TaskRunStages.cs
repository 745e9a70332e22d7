using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Decoding;
using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// The stages of one task's run, source to target: the source's metadata and channels, the decoding, where each channel
/// starts, the routes, the collection setup, the DML writer of the task's apply mode and the operations applier on the
/// target, the checkpoints;
/// and what every stage reports to and retries with.
/// </summary>
public sealed record TaskRunStages(
    ISourceMetadata Metadata,
    ChannelReading Reading,
    MessageDecoding Decoding,
    ISourceMessageIdEncoder Ids,
    ChannelStarts Starts,
    RouteTable Routes,
    CollectionSetup Setup,
    IDmlWriter Writer,
    TargetOperationApplier Operations,
    CheckpointRecorder Checkpoints,
    TaskRunMonitor Monitor,
    RetryPolicy Retry);
