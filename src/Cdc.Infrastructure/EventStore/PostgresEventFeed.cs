using Cdc.Application.EventStore;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// The tenant's event feed. Because every append holds the append lock until it commits, a sequence number below
/// a committed one is final; the high-water mark is therefore the highest committed sequence, and an append that
/// commits late holds back every later one instead of being skipped (tested in EventFeedTests).
/// Waiting uses LISTEN on the store's NOTIFY channel, with the timeout as a poll fallback.
/// </summary>
public sealed class PostgresEventFeed(NpgsqlDataSource dataSource, EventStoreOptions options, EventTypes types) : IEventFeed
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    public async Task<IReadOnlyList<RecordedEvent>> ReadAsync(long afterSequence, int maxCount, CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(
            $"{PostgresEventStore.EventColumns} from {_s}.mt_events where tenant_id = $1 and seq_id > $2 order by seq_id limit $3", conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(afterSequence);
        cmd.Parameters.AddWithValue(maxCount);
        return await PostgresEventStore.ReadEventsAsync(cmd, types, cancellationToken);
    }

    public async Task<long> HighWaterMarkAsync(CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        return await HighWaterMarkAsync(conn, cancellationToken);
    }

    public async Task WaitForEventsAsync(long afterSequence, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var listen = new NpgsqlCommand($"listen \"{options.NotifyChannel}\"", conn))
            await listen.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            if (await HighWaterMarkAsync(conn, cancellationToken) > afterSequence) return;
            await conn.WaitAsync(timeout, cancellationToken);
        }
        finally
        {
            await using var unlisten = new NpgsqlCommand("unlisten *", conn);
            await unlisten.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task<long> HighWaterMarkAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {_s}.mt_events where tenant_id = $1", conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }
}
