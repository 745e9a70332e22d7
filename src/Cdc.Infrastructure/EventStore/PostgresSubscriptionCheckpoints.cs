using Cdc.Application.EventStore;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

public sealed class PostgresSubscriptionCheckpoints(NpgsqlDataSource dataSource, EventStoreOptions options, TimeProvider clock)
    : ISubscriptionCheckpoints
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    public async Task<long> LoadAsync(string subscription, CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"select last_seq from {_s}.subscription_checkpoints where tenant_id = $1 and name = $2", conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(subscription);
        return await cmd.ExecuteScalarAsync(cancellationToken) is long l ? l : 0;
    }

    public async Task SaveAsync(string subscription, long sequence, CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"""
            insert into {_s}.subscription_checkpoints (tenant_id, name, last_seq, updated) values ($1, $2, $3, $4)
            on conflict (tenant_id, name) do update set last_seq = excluded.last_seq, updated = excluded.updated
            """, conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(subscription);
        cmd.Parameters.AddWithValue(sequence);
        cmd.Parameters.AddWithValue(clock.GetUtcNow());
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
