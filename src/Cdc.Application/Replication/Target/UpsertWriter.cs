using System.Collections.Concurrent;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Packing;
using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// The DML writer of apply mode "upsert": writes a task's Inserts and Deletes into an ordinary Milvus through its normal
/// RPCs. An Insert becomes Upsert calls carrying its columns as they are (<see cref="IUpsertRewriter"/>; split by rows
/// past the request limit), a Delete becomes Delete calls by primary key (<see cref="PrimaryKeyExpression"/>;
/// consecutive Deletes of one partition go together). Writing a change twice leaves the same rows, so what a restart
/// sends again (up to a checkpoint interval) duplicates nothing.
/// <para>
/// Order: the changes of one collection are written one after the other, in the pack's order (Delete before Insert at
/// equal timestamps, as the source's upsert is a Delete and an Insert of one timestamp); the collections of a pack are
/// written side by side. A collection is checked once, before its first write, against the source's schema
/// (<see cref="TargetSchemaCheck"/>): a collection someone else created with another schema halts the run, naming it.
/// Every call goes through the run's <see cref="RetryPolicy"/> (a rate limit is retried, a refusal halts the run with a
/// reason naming the collection); the pack is acknowledged only once every call was.
/// </para>
/// </summary>
public sealed class UpsertWriter(
    string taskId,
    IMilvusTarget target,
    RouteTable routes,
    CollectionSetup setup,
    IUpsertRewriter upserts,
    RetryPolicy retry,
    TaskRunMonitor monitor,
    ReplayCounter replays,
    TimeProvider clock,
    ILogger logger,
    DmlWriteOptions options,
    int maxRequestBytes) : IDmlWriter
{
    /// <summary>What a Delete request keeps of its limit for names and framing (a quarter of a small limit); the expression takes the rest.</summary>
    private const int RequestOverhead = 4096;

    private readonly RoutableChanges _routable = new(taskId, routes, setup, clock, logger, options);
    private readonly CollectionDrops _drops = new(taskId, target, routes, retry, logger, options.IgnorePartition);
    private readonly ConcurrentDictionary<CollectionRoute, UpsertLayout> _layouts = new();

    /// <summary>How a collection's rows are written: where, its key field, which source columns stay behind.</summary>
    private sealed record UpsertLayout(string Database, string Collection, string PrimaryKey, bool PartitionKeyMode, IReadOnlySet<string> LeftOut);

    public async Task WritePackAsync(ChangePack pack, CancellationToken ct)
    {
        var changes = await _routable.OfAsync(pack, ct);
        await Task.WhenAll(changes.GroupBy(c => routes.RouteOf(c)!).Select(collection => WriteAsync(collection.Key, [.. collection], ct)));
        monitor.Written(pack with { Changes = changes }, asUpserts: true);
        replays.Count(pack);
        foreach (var drop in pack.Changes.Where(c => !RouteTable.IsDml(c)))
            await _drops.ApplyAsync(drop, pack.Channel, CollectionDrops.AtItsOwnTime, ct);
    }

    /// <summary>
    /// A Delete goes ahead of its tick when its collection and partition are on the target. An Insert waits for its
    /// tick: the Delete of a source upsert follows its Insert at the same timestamp, and must reach the target first.
    /// </summary>
    public async Task<bool> TryWriteAheadAsync(SourceChange change, SourcePosition position, HybridTimestamp lastTick, CancellationToken ct)
    {
        if (!options.SendDmlAhead || change is not DeleteChange || routes.RouteOf(change) is not { } route || !route.KnowsPartitionOf(change))
            return false;

        await WriteAsync(route, [change], ct);
        var ahead = new ChangePack(position.Channel, lastTick, change.Timestamp, [change], position, position);
        monitor.Written(ahead, asUpserts: true);
        replays.Count(ahead);
        return true;
    }

    /// <summary>The changes of one collection, in order: consecutive Deletes of one partition together, each Insert on its own.</summary>
    private async Task WriteAsync(CollectionRoute route, IReadOnlyList<SourceChange> changes, CancellationToken ct)
    {
        var layout = _layouts.GetOrAdd(route, Layout);
        for (var i = 0; i < changes.Count;)
        {
            if (changes[i] is InsertChange insert)
            {
                await UpsertAsync(layout, insert, ct);
                i++;
                continue;
            }

            var first = (DeleteChange)changes[i];
            var partition = DeletePartition(layout, first);
            var run = new List<DeleteChange> { first };
            for (i++; i < changes.Count && changes[i] is DeleteChange next && DeletePartition(layout, next) == partition
                 && next.PrimaryKeys.GetType() == first.PrimaryKeys.GetType(); i++)
                run.Add(next);
            await DeleteAsync(layout, partition, run, ct);
        }
    }

    private async Task UpsertAsync(UpsertLayout layout, InsertChange insert, CancellationToken ct)
    {
        var partition = layout.PartitionKeyMode ? "" : string.IsNullOrEmpty(insert.PartitionName) ? SourcePartition.DefaultName : insert.PartitionName;
        IReadOnlyList<TargetUpsert> calls;
        try
        {
            calls = upserts.Upserts(insert, layout.Collection, partition, layout.LeftOut, maxRequestBytes);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or FormatException)
        {
            throw ReplicationHalted.Because($"cannot upsert the Insert at {insert.Origin.Describe()} into {layout.Database}.{layout.Collection}: {ex.Message}", ex);
        }

        for (var part = 0; part < calls.Count; part++)
        {
            var call = calls[part];
            var which = calls.Count == 1 ? "" : $" (part {part + 1} of {calls.Count})";
            await retry.RunAsync($"upsert {call.RowCount} rows into {layout.Database}.{layout.Collection} from the Insert at {insert.Origin.Describe()}{which}",
                t => target.UpsertAsync(layout.Database, call, t), ct);
        }
    }

    private async Task DeleteAsync(UpsertLayout layout, string partition, IReadOnlyList<DeleteChange> deletes, CancellationToken ct)
    {
        var keys = deletes[0].PrimaryKeys is StringPrimaryKeys
            ? (PrimaryKeys)new StringPrimaryKeys([.. deletes.SelectMany(d => ((StringPrimaryKeys)d.PrimaryKeys).Keys)])
            : new Int64PrimaryKeys([.. deletes.SelectMany(d => ((Int64PrimaryKeys)d.PrimaryKeys).Keys)]);
        if (keys.Count == 0) return;
        var from = deletes.Count == 1 ? $"the Delete at {deletes[0].Origin.Describe()}" : $"{deletes.Count} Deletes from {deletes[0].Origin.Describe()} on";
        foreach (var expression in PrimaryKeyExpression.Batches(layout.PrimaryKey, keys, maxRequestBytes - Math.Min(RequestOverhead, maxRequestBytes / 4)))
        {
            await retry.RunAsync($"delete rows of {layout.Database}.{layout.Collection} by key from {from}",
                t => target.DeleteAsync(layout.Database, new TargetDelete(layout.Collection, partition, expression), t), ct);
        }
    }

    /// <summary>The partition a Delete removes rows from: its own, or every one (no name, or a partition-key collection).</summary>
    private static string DeletePartition(UpsertLayout layout, DeleteChange delete) => layout.PartitionKeyMode ? "" : delete.PartitionName;

    /// <summary>How a routed collection is written; first checks that the target's collection takes the source's rows.</summary>
    private UpsertLayout Layout(CollectionRoute route)
    {
        var source = route.Source.Schema;
        var name = $"{route.TargetDatabase}.{route.TargetName}";
        var primary = source.PrimaryKey ?? throw ReplicationHalted.Because($"collection {name} has no primary key on the source");
        SourceCollectionSchema onTarget;
        try
        {
            onTarget = upserts.Read(route.Target.Schema);
        }
        catch (FormatException ex)
        {
            throw ReplicationHalted.Because($"cannot read the schema of collection {name} on the target: {ex.Message}", ex);
        }

        if (TargetSchemaCheck.Differences(source, onTarget) is { Count: > 0 } differences)
            throw ReplicationHalted.Because($"collection {name} on the target has another schema than the source's: {string.Join("; ", differences)}");

        logger.LogInformation("task {TaskId} upserts into collection {Collection} by its primary key {Key}", taskId, name, primary.Name);
        return new UpsertLayout(route.TargetDatabase, route.TargetName, primary.Name, source.Fields.Any(f => f.IsPartitionKey),
            source.Functions.SelectMany(f => f.OutputFieldNames).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Nothing to settle: the target gives normal writes their own timestamps, no time is reserved.</summary>
    public Task SettleAsync(CancellationToken ct) => Task.CompletedTask;

    public void Dispose()
    {
    }
}
