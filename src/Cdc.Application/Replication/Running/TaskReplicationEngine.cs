using Cdc.Application.EventStore;
using Cdc.Application.Metrics;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Decoding;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Application.Secrets;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// The replication of tasks (<see cref="ITaskReplication"/>): each <see cref="RunAsync"/> is one
/// <see cref="TaskReplicationRun"/> of a task, from the source's metadata store and channels into its target Milvus,
/// until cancelled or halted. Stateless between runs; one instance serves every task of the process.
/// </summary>
public sealed class TaskReplicationEngine(
    ISourceMetadata metadata,
    ISourceChannels channels,
    IChangeDecoder decoder,
    ISourceMessageIdEncoder ids,
    IMilvusTargetFactory targets,
    IDmlMessageRewriter rewriter,
    IControlMessageFactory control,
    ISecretProtector secrets,
    IEventStore store,
    TimeProvider clock,
    ILogger<TaskReplicationEngine> logger,
    TaskReplicationOptions options,
    ICdcMetrics? metrics = null,
    ITaskRuntimeReports? reports = null,
    ISourcePositionCodec? positions = null) : ITaskReplication
{
    public async Task RunAsync(TaskRunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var connection = TargetConnections.From(context.Definition.Target, secrets);
        var monitor = new TaskRunMonitor(context.TaskId, context.Owner, metrics ?? Unmonitored.Metrics, reports ?? Unmonitored.Reports, clock, logger, options.ReplicateChannel);
        await using var target = new MeteredMilvusTarget(targets.Create(connection), monitor.ApiCalled);
        var run = new TaskReplicationRun(
            context, target, metadata, channels, decoder, ids, rewriter, control,
            new CheckpointRecorder(context.TaskId, store, clock, options.Checkpoints), monitor, clock, logger, options, positions);
        await run.RunAsync(cancellationToken);
    }
}
