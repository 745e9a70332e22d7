using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Domain.Tasks;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Target;

/// <summary>What became of one operation from the replicate channel.</summary>
public enum OperationOutcome
{
    Applied,
    /// <summary>Not in the task's selection, or not an operation of the replicate channel.</summary>
    NotSelected,
    /// <summary>The target already had the outcome (database exists, database already gone).</summary>
    AlreadyApplied,
    /// <summary>The collection never appeared on the target (it was dropped meanwhile): nothing to apply it to.</summary>
    TargetMissing,
}

/// <summary>
/// Applies to the target, through its normal RPCs, the operations that arrive on the source's replicate channel
/// (index, load/release, flush, database) and the creates seen in the source's etcd (collections, partitions), under
/// the task's target names (<c>name_mapping</c>). Each call carries replicateInfo with the source timestamp (done by the
/// target client) and is made idempotent as the reference does (zilliztech/milvus-cdc core/writer/channel_writer.go):
/// CreateCollection is skipped when the target describes the collection, CreatePartition and CreateDatabase when the
/// target lists them, a drop of what is gone counts as done, and an operation on a collection first waits for the
/// collection to exist on the target. A database is created when the selection takes some of its collections; it is
/// dropped or altered only when the selection takes all of them. <c>define</c> says how a source collection is created
/// on the target under its target name (<see cref="TargetCollectionDefinitions.From"/> unless given).
/// </summary>
public sealed class TargetOperationApplier(
    IMilvusTarget target,
    CollectionSelection selection,
    TimeProvider clock,
    ILogger logger,
    TargetOperationApplier.WaitOptions? wait = null,
    bool ignorePartition = false,
    TargetNames? names = null,
    Func<SourceCollection, string, TargetCollectionDefinition>? define = null)
{
    /// <summary>How long an operation waits for its collection to appear on the target.</summary>
    public sealed record WaitOptions(int Attempts, TimeSpan Delay)
    {
        public static WaitOptions Default { get; } = new(30, TimeSpan.FromSeconds(1));
    }

    private readonly WaitOptions _wait = wait ?? WaitOptions.Default;
    private readonly TargetNames _names = names ?? TargetNames.Identity;

    public async Task<OperationOutcome> ApplyAsync(SourceChange change, CancellationToken cancellationToken)
    {
        var ts = change.Timestamp;
        switch (change)
        {
            case CreateDatabaseChange c when selection.TouchesDatabase(c.DbName):
                return await EnsureDatabaseAsync(c.DbName, c.Properties, ts, cancellationToken) ? OperationOutcome.Applied : OperationOutcome.AlreadyApplied;
            case DropDatabaseChange d when selection.CoversWholeDatabase(d.DbName):
                try
                {
                    await target.DropDatabaseAsync(_names.DatabaseOf(d.DbName), ts, cancellationToken);
                    return OperationOutcome.Applied;
                }
                catch (MilvusTargetException ex) when (ex.IsDatabaseNotFound)
                {
                    return OperationOutcome.AlreadyApplied;
                }
            case AlterDatabaseChange a when selection.CoversWholeDatabase(a.DbName):
                await target.AlterDatabaseAsync(_names.DatabaseOf(a.DbName), a.Properties, a.DeletedKeys, ts, cancellationToken);
                return OperationOutcome.Applied;
            case CreateIndexChange i when Selects(i.DbName, i.CollectionName):
                return await OnCollectionAsync(i.DbName, i.CollectionName, (db, name) =>
                    target.CreateIndexAsync(db, new TargetIndexDefinition(name, i.FieldName, i.IndexName, i.Parameters), ts, cancellationToken), cancellationToken);
            case DropIndexChange i when Selects(i.DbName, i.CollectionName):
                return await OnCollectionAsync(i.DbName, i.CollectionName, (db, name) =>
                    target.DropIndexAsync(db, name, i.FieldName, i.IndexName, ts, cancellationToken), cancellationToken);
            case AlterIndexChange i when Selects(i.DbName, i.CollectionName):
                return await OnCollectionAsync(i.DbName, i.CollectionName, (db, name) =>
                    target.AlterIndexAsync(db, name, i.IndexName, i.Parameters, i.DeletedKeys, ts, cancellationToken), cancellationToken);
            case LoadCollectionChange l when Selects(l.DbName, l.CollectionName):
                return await OnCollectionAsync(l.DbName, l.CollectionName, (db, name) =>
                    target.LoadCollectionAsync(db, name, l.ReplicaNumber, ts, cancellationToken), cancellationToken);
            case ReleaseCollectionChange r when Selects(r.DbName, r.CollectionName):
                return await OnCollectionAsync(r.DbName, r.CollectionName, (db, name) =>
                    target.ReleaseCollectionAsync(db, name, ts, cancellationToken), cancellationToken);
            case LoadPartitionsChange l when Selects(l.DbName, l.CollectionName):
                return await OnCollectionAsync(l.DbName, l.CollectionName, (db, name) =>
                    target.LoadPartitionsAsync(db, name, l.PartitionNames, l.ReplicaNumber, ts, cancellationToken), cancellationToken);
            case ReleasePartitionsChange r when Selects(r.DbName, r.CollectionName):
                return await OnCollectionAsync(r.DbName, r.CollectionName, (db, name) =>
                    target.ReleasePartitionsAsync(db, name, r.PartitionNames, ts, cancellationToken), cancellationToken);
            case FlushChange f:
                // One call per selected collection, as the reference does.
                var outcome = OperationOutcome.NotSelected;
                foreach (var collection in f.CollectionNames.Where(c => Selects(f.DbName, c)))
                {
                    var one = await OnCollectionAsync(f.DbName, collection, (db, name) => target.FlushAsync(db, name, ts, cancellationToken), cancellationToken);
                    if (outcome != OperationOutcome.Applied) outcome = one;
                }
                return outcome;
            default:
                return OperationOutcome.NotSelected;
        }
    }

    /// <summary>Applies a create seen in the source's metadata; drops come from the DML channels (see ShardBarrier).</summary>
    public async Task<OperationOutcome> ApplyAsync(SourceMetaEvent metadata, CancellationToken cancellationToken)
    {
        switch (metadata)
        {
            case CollectionCreated { Collection: var c } when Selects(c.DbName, c.Name):
                var (database, name) = (_names.DatabaseOf(c.DbName), _names.CollectionOf(c.DbName, c.Name));
                if (await target.DescribeCollectionAsync(database, name, cancellationToken) is not null) return OperationOutcome.AlreadyApplied;
                await EnsureDatabaseAsync(c.DbName, new Dictionary<string, string>(), c.CreatedTimestamp, cancellationToken);
                await target.CreateCollectionAsync(database, define is null ? TargetCollectionDefinitions.From(c, name) : define(c, name), c.CreatedTimestamp, cancellationToken);
                return OperationOutcome.Applied;
            case PartitionCreated p when !ignorePartition && Selects(p.DbName, p.CollectionName):
                return await OnCollectionAsync(p.DbName, p.CollectionName, async (db, name) =>
                {
                    var existing = await target.ShowPartitionsAsync(db, name, cancellationToken);
                    if (existing.Any(e => e.Name == p.Partition.Name)) return OperationOutcome.AlreadyApplied;
                    await target.CreatePartitionAsync(db, name, p.Partition.Name, p.Partition.CreatedTimestamp, cancellationToken);
                    return OperationOutcome.Applied;
                }, cancellationToken);
            default:
                return OperationOutcome.NotSelected;
        }
    }

    private bool Selects(string db, string collection) => selection.Covers(db, collection);

    /// <summary>Creates a source database's target database unless it exists (the default one always does); true when created.</summary>
    private async Task<bool> EnsureDatabaseAsync(string sourceDatabase, IReadOnlyDictionary<string, string> properties, HybridTimestamp ts, CancellationToken cancellationToken)
    {
        var database = _names.DatabaseOf(sourceDatabase);
        if (database == CollectionSelection.DefaultDatabase || (await target.ListDatabasesAsync(cancellationToken)).Contains(database)) return false;
        await target.CreateDatabaseAsync(database, properties, ts, cancellationToken);
        return true;
    }

    private Task<OperationOutcome> OnCollectionAsync(string db, string collection, Func<string, string, Task> apply, CancellationToken cancellationToken) =>
        OnCollectionAsync(db, collection, async (database, name) => { await apply(database, name); return OperationOutcome.Applied; }, cancellationToken);

    /// <summary>Waits for the (target-named) collection of a source collection to exist on the target, then applies.</summary>
    private async Task<OperationOutcome> OnCollectionAsync(string db, string collection, Func<string, string, Task<OperationOutcome>> apply, CancellationToken cancellationToken)
    {
        var (database, name) = (_names.DatabaseOf(db), _names.CollectionOf(db, collection));
        for (var attempt = 1; ; attempt++)
        {
            if (await target.DescribeCollectionAsync(database, name, cancellationToken) is not null) break;
            if (attempt >= _wait.Attempts)
            {
                logger.LogWarning("skipped an operation on {Database}.{Collection}: the collection did not appear on the target", database, name);
                return OperationOutcome.TargetMissing;
            }
            await Task.Delay(_wait.Delay, clock, cancellationToken);
        }
        return await apply(database, name);
    }
}
