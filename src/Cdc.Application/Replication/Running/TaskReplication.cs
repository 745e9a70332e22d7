using Cdc.Application.EventStore;
using Cdc.Application.Metrics;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Decoding;
using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Application.Secrets;
using Cdc.Domain.Tasks;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Running;

/// <summary>
/// The replication of tasks (<see cref="ITaskReplication"/>) on this server's adapters (the source's metadata and
/// channels, the target's client, the event store): each <see cref="RunAsync"/> assembles the stages of one task's run
/// (<see cref="TaskRunStages"/>, for its own target, with the DML writer of the task's apply mode) and runs them
/// (<see cref="TaskRun"/>) until cancelled or halted.
/// Stateless between runs; one instance serves every task of the process.
/// </summary>
public sealed class TaskReplication(
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
    ILogger<TaskReplication> logger,
    TaskReplicationOptions options,
    ICdcMetrics? metrics = null,
    ITaskRuntimeReports? reports = null,
    ISourcePositionCodec? positions = null,
    IUpsertRewriter? upserts = null) : ITaskReplication
{
    public async Task RunAsync(TaskRunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var taskId = context.TaskId;
        var monitor = new TaskRunMonitor(taskId, context.Owner, metrics ?? Unmonitored.Metrics, reports ?? Unmonitored.Reports, clock, logger, options.ReplicateChannel);
        var mode = context.Definition.ApplyMode;
        await using var target = new MeteredMilvusTarget(targets.Create(TargetConnections.From(context.Definition.Target, secrets, mode)), monitor.ApiCalled);
        var retry = new RetryPolicy(options.RetryDelay, options.MaxRetryDelay, options.MissingTargetAttempts, monitor, clock, logger, taskId);
        var checkpoints = new CheckpointRecorder(taskId, store, clock, options.Checkpoints, monitor);
        var routes = new RouteTable(context.Definition.Selection);
        var names = context.Definition.NamesOnTarget();
        var operations = new TargetOperationApplier(target, context.Definition.Selection, clock, logger, options.OperationWait, context.Definition.Target.IgnorePartition, names,
            mode == ApplyMode.Upsert ? (c, name) => TargetCollectionDefinitions.From(c, name) with { Schema = Upserts().KeepingSourceKeys(c.Schema.Serialized) } : null);
        var setup = new CollectionSetup(taskId, target, operations, routes, retry, logger, names);
        var replays = new ReplayCounter(context, options.Checkpoints.Interval, monitor, logger);
        var writing = new DmlWriteOptions(options.SendDmlAhead, options.MissingTargetAttempts, options.RetryDelay, context.Definition.Target.IgnorePartition);
        IDmlWriter writer = mode == ApplyMode.Upsert
            ? new UpsertWriter(taskId, target, routes, setup, Upserts(), retry, monitor, replays, clock, logger, writing, options.UpsertRequestBytes)
            : new TargetPackWriter(taskId, target, routes, setup, rewriter, control, retry, monitor, replays, clock, logger, writing,
                new TargetTimeReservations(taskId, store, clock, options.TargetTimeMargin, retry, options.Checkpoints));
        var stages = new TaskRunStages(
            metadata,
            new ChannelReading(taskId, channels, retry, checkpoints, monitor, clock, logger),
            new MessageDecoding(decoder, monitor),
            ids,
            new ChannelStarts(context, options.ReplicateChannel, positions),
            routes,
            setup,
            writer,
            operations,
            checkpoints,
            monitor,
            retry);
        await new TaskRun(context, stages, options, clock, logger).RunAsync(cancellationToken);
    }

    private IUpsertRewriter Upserts() =>
        upserts ?? throw new ReplicationHalted("apply_mode \"upsert\" is not available: this server's replication has no upsert rewriter");
}
