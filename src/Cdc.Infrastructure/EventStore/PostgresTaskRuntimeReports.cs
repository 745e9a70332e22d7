using Cdc.Application.Replication.Ports;
using Cdc.Application.Tasks;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>The runtime reports of tasks, one row per task in <c>task_runtime</c>, read with the task views.</summary>
public sealed class PostgresTaskRuntimeReports(NpgsqlDataSource dataSource, EventStoreOptions options) : ITaskRuntimeReports
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    public async Task ReportAsync(string taskId, TaskRuntimeReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"""
            insert into {_s}.task_runtime (tenant_id, task_id, owner, last_error, last_error_at, recovered_at, updated, stopped_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8)
            on conflict (tenant_id, task_id) do update set owner = excluded.owner, last_error = excluded.last_error,
                last_error_at = excluded.last_error_at, recovered_at = excluded.recovered_at, updated = excluded.updated,
                stopped_at = excluded.stopped_at
            """, conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(taskId);
        cmd.Parameters.AddWithValue(report.Owner);
        cmd.Parameters.AddWithValue((object?)report.LastError ?? DBNull.Value);
        cmd.Parameters.AddWithValue((object?)report.LastErrorAt ?? DBNull.Value);
        cmd.Parameters.AddWithValue((object?)report.RecoveredAt ?? DBNull.Value);
        cmd.Parameters.AddWithValue(report.UpdatedAt);
        cmd.Parameters.AddWithValue((object?)report.StoppedAt ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task RemoveAsync(string taskId, CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"delete from {_s}.task_runtime where tenant_id = $1 and task_id = $2", conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(taskId);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
