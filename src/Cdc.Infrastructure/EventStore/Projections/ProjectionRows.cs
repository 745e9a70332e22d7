using Npgsql;

namespace Cdc.Infrastructure.EventStore.Projections;

/// <summary>Row removal shared by the projections: a task's rows (on delete) or a tenant's rows (before a rebuild).</summary>
internal static class ProjectionRows
{
    public static async Task DeleteAsync(NpgsqlConnection connection, string table, string tenant, string? taskId, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            $"delete from {table} where tenant_id = $1" + (taskId is null ? "" : " and task_id = $2"), connection);
        cmd.Parameters.AddWithValue(tenant);
        if (taskId is not null) cmd.Parameters.AddWithValue(taskId);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
