using Cdc.Application.EventStore;
using Npgsql;

namespace Cdc.Infrastructure.EventStore.Projections;

/// <summary>Applies events to the inline projections, skipping what a projection has applied already.</summary>
public sealed class ProjectionRunner(IReadOnlyList<IInlineProjection> projections, EventStoreOptions options)
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    public IReadOnlyList<IInlineProjection> Projections => projections;

    /// <summary>Runs inside the caller's transaction (the connection has it open).</summary>
    public async Task ApplyAsync(NpgsqlConnection connection, IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return;
        foreach (var projection in projections)
        {
            var last = await LastSequenceAsync(connection, projection.Name, cancellationToken);
            foreach (var e in events.Where(e => e.Sequence > last))
                await projection.ApplyAsync(connection, options.Tenant, e, cancellationToken);
            await SaveProgressAsync(connection, projection.Name, Math.Max(last, events[^1].Sequence), cancellationToken);
        }
    }

    public async Task ResetAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        foreach (var projection in projections)
        {
            await projection.ClearAsync(connection, options.Tenant, cancellationToken);
            await SaveProgressAsync(connection, projection.Name, 0, cancellationToken);
        }
    }

    private async Task<long> LastSequenceAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"select last_seq from {_s}.projection_progress where tenant_id = $1 and name = $2", connection);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(name);
        return await cmd.ExecuteScalarAsync(cancellationToken) is long l ? l : 0;
    }

    private async Task SaveProgressAsync(NpgsqlConnection connection, string name, long sequence, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"""
            insert into {_s}.projection_progress (tenant_id, name, last_seq) values ($1, $2, $3)
            on conflict (tenant_id, name) do update set last_seq = excluded.last_seq
            """, connection);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(name);
        cmd.Parameters.AddWithValue(sequence);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
