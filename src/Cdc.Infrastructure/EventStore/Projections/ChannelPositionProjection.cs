using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Npgsql;

namespace Cdc.Infrastructure.EventStore.Projections;

/// <summary>The latest checkpoint per (task, source channel): what <c>position</c> shows and what resume seeks to.</summary>
public sealed class ChannelPositionProjection(EventStoreOptions options) : IInlineProjection
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    public string Name => "channel_positions";

    public async Task ApplyAsync(NpgsqlConnection connection, string tenant, RecordedEvent e, CancellationToken cancellationToken)
    {
        switch (e.Data)
        {
            case ChannelCheckpointed c:
                await using (var cmd = new NpgsqlCommand($"""
                    insert into {_s}.channel_positions (tenant_id, task_id, channel, position, ts, checkpointed) values ($1, $2, $3, $4, $5, $6)
                    on conflict (tenant_id, task_id, channel) do update
                    set position = excluded.position, ts = excluded.ts, checkpointed = excluded.checkpointed
                    """, connection))
                {
                    cmd.Parameters.AddWithValue(tenant);
                    cmd.Parameters.AddWithValue(c.TaskId);
                    cmd.Parameters.AddWithValue(c.Channel);
                    cmd.Parameters.AddWithValue(c.Position);
                    cmd.Parameters.AddWithValue((decimal)c.Timestamp);
                    cmd.Parameters.AddWithValue(c.CheckpointedAt);
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
                break;
            case TaskDeleted d:
                await ProjectionRows.DeleteAsync(connection, $"{_s}.channel_positions", tenant, d.TaskId, cancellationToken);
                break;
        }
    }

    public Task ClearAsync(NpgsqlConnection connection, string tenant, CancellationToken cancellationToken) =>
        ProjectionRows.DeleteAsync(connection, $"{_s}.channel_positions", tenant, null, cancellationToken);
}
