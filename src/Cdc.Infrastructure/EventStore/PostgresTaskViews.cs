using Cdc.Application.Tasks;
using Cdc.Infrastructure.EventStore.Projections;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>Queries over the task projection, joined with the latest channel positions and the runtime report.</summary>
public sealed class PostgresTaskViews(NpgsqlDataSource dataSource, EventStoreOptions options) : ITaskViews
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    public async Task<TaskView?> GetAsync(string taskId, CancellationToken cancellationToken) =>
        (await QueryAsync("and v.task_id = $2", taskId, cancellationToken)).SingleOrDefault();

    public Task<IReadOnlyList<TaskView>> ListAsync(CancellationToken cancellationToken) =>
        QueryAsync("", null, cancellationToken);

    private async Task<IReadOnlyList<TaskView>> QueryAsync(string filter, string? taskId, CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"""
            select v.view::text, p.channel, p.position, p.ts, p.checkpointed,
                   r.owner, r.last_error, r.last_error_at, r.recovered_at, r.updated, r.stopped_at
            from {_s}.task_views v
            left join {_s}.channel_positions p on p.tenant_id = v.tenant_id and p.task_id = v.task_id
            left join {_s}.task_runtime r on r.tenant_id = v.tenant_id and r.task_id = v.task_id
            where v.tenant_id = $1 {filter}
            order by v.created, v.task_id, p.channel
            """, conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        if (taskId is not null) cmd.Parameters.AddWithValue(taskId);
        var views = new List<TaskView>();
        var positions = new Dictionary<string, List<ChannelPosition>>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            var view = TaskViewProjection.Deserialize(r.GetString(0));
            if (!positions.TryGetValue(view.TaskId, out var list))
            {
                positions[view.TaskId] = list = [];
                views.Add(r.IsDBNull(5) ? view : view with
                {
                    Runtime = new TaskRuntimeReport(r.GetString(5),
                        r.IsDBNull(6) ? null : r.GetString(6),
                        r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7),
                        r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8),
                        r.GetFieldValue<DateTimeOffset>(9),
                        r.IsDBNull(10) ? null : r.GetFieldValue<DateTimeOffset>(10)),
                });
            }
            if (!r.IsDBNull(1))
                list.Add(new ChannelPosition(r.GetString(1), r.GetString(2), (ulong)r.GetDecimal(3), r.GetFieldValue<DateTimeOffset>(4)));
        }
        return views.Select(v => v with { Positions = positions[v.TaskId] }).ToList();
    }
}
