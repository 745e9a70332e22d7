using Cdc.Application.Replication.Supervision;
using Cdc.Infrastructure.EventStore;
using Npgsql;

namespace Cdc.Infrastructure.Coordination;

/// <summary>
/// Task leases in PostgreSQL (table <c>task_leases</c>), judged by the database's clock (<c>now()</c>): the fence that
/// keeps two servers from running one task at once, whatever the placement of the tasks says.
/// </summary>
public sealed class PostgresTaskLeases(NpgsqlDataSource dataSource, EventStoreOptions options) : ITaskLeases
{
    private readonly string _s = EventStoreStartup.Quote(options.Schema);

    /// <summary>Creates the lease table (idempotent).</summary>
    public static string CreateTableSql(string schema) => $"""
        create table if not exists {EventStoreStartup.Quote(schema)}.task_leases (
            tenant_id  text        not null,
            task_id    text        not null,
            owner      text        not null,
            expires_at timestamptz not null,
            primary key (tenant_id, task_id));
        """;

    public async Task<bool> TryAcquireAsync(string taskId, string owner, TimeSpan ttl, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            insert into {_s}.task_leases (tenant_id, task_id, owner, expires_at) values ($1, $2, $3, now() + $4)
            on conflict (tenant_id, task_id) do update set owner = excluded.owner, expires_at = excluded.expires_at
            where {_s}.task_leases.owner = excluded.owner or {_s}.task_leases.expires_at < now()
            """, taskId, owner, ttl, cancellationToken) == 1;

    public async Task<bool> RenewAsync(string taskId, string owner, TimeSpan ttl, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            update {_s}.task_leases set expires_at = now() + $4
            where tenant_id = $1 and task_id = $2 and owner = $3
            """, taskId, owner, ttl, cancellationToken) == 1;

    public Task ReleaseAsync(string taskId, string owner, CancellationToken cancellationToken) =>
        ExecuteAsync($"delete from {_s}.task_leases where tenant_id = $1 and task_id = $2 and owner = $3",
            taskId, owner, null, cancellationToken);

    private async Task<int> ExecuteAsync(string sql, string taskId, string owner, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(taskId);
        cmd.Parameters.AddWithValue(owner);
        if (ttl is { } t) cmd.Parameters.AddWithValue(t);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
