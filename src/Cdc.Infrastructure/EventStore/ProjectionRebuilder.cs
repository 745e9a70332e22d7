using Cdc.Infrastructure.EventStore.Projections;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Rebuilds the tenant's inline projections from its events in one transaction, holding the append lock so that
/// no append interleaves; the result equals what the inline updates produced.
/// </summary>
public sealed class ProjectionRebuilder(NpgsqlDataSource dataSource, EventStoreOptions options, EventTypes types, ProjectionRunner projections)
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    public async Task<long> RebuildAsync(CancellationToken cancellationToken, int batchSize = 500)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand("select pg_advisory_xact_lock($1)", conn))
        {
            lockCmd.Parameters.AddWithValue(options.AppendLockKey);
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await projections.ResetAsync(conn, cancellationToken);
        long last = 0, applied = 0;
        while (true)
        {
            await using var cmd = new NpgsqlCommand(
                $"{PostgresEventStore.EventColumns} from {_s}.mt_events where tenant_id = $1 and seq_id > $2 order by seq_id limit $3", conn);
            cmd.Parameters.AddWithValue(options.Tenant);
            cmd.Parameters.AddWithValue(last);
            cmd.Parameters.AddWithValue(batchSize);
            var batch = await PostgresEventStore.ReadEventsAsync(cmd, types, cancellationToken);
            if (batch.Count == 0) break;
            await projections.ApplyAsync(conn, batch, cancellationToken);
            last = batch[^1].Sequence;
            applied += batch.Count;
        }
        await tx.CommitAsync(cancellationToken);
        return applied;
    }
}
