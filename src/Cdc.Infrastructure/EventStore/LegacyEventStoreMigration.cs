using Cdc.Domain.Events;
using Marten;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Migrates the event store of the previous version of this server (its own tables <c>mt_streams</c>/<c>mt_events</c>
/// with a <c>type_version</c> column, and its projection tables) into Marten, so a database it wrote is never misread:
/// <list type="number">
/// <item>its tables are moved, whole, into the schema <c>{schema}_legacy_v1</c> (kept there as a backup);</item>
/// <item>once Marten's tables exist, every stream of every tenant is appended again through Marten: a task stream
/// with all its events (the projections follow), a checkpoint stream with its latest checkpoint. Old event versions
/// are upcast on the way. The events get new sequence numbers and storage timestamps; their own timestamps (created,
/// paused, checkpointed at) are in their data and kept;</item>
/// <item>a table <c>migrated</c> in the legacy schema marks the copy done. A copy cut short is finished at the next
/// start: streams Marten already has are skipped.</item>
/// </list>
/// </summary>
public sealed class LegacyEventStoreMigration(NpgsqlConnection conn, IDocumentStore store, EventStoreOptions options, ILogger logger)
{
    private static readonly string[] Tables =
        ["mt_events", "mt_streams", "projection_progress", "subscription_checkpoints", "task_views", "channel_positions", "task_leases", "task_runtime"];

    private readonly string _legacy = $"{options.Schema}_legacy_v1";

    /// <summary>Moves the previous version's tables out of the store's schema, when they are there.</summary>
    public async Task MoveAsideAsync(CancellationToken cancellationToken)
    {
        await using (var probe = new NpgsqlCommand("""
            select count(*) from information_schema.columns
            where table_schema = $1 and table_name = 'mt_events' and column_name = 'type_version'
            """, conn))
        {
            probe.Parameters.AddWithValue(options.Schema);
            if ((long)(await probe.ExecuteScalarAsync(cancellationToken))! == 0) return;
        }

        logger.LogWarning("schema {Schema} holds the event store of the previous version of this server: moving it to {Legacy} and migrating it into Marten",
            options.Schema, _legacy);
        var s = EventStoreStartup.Quote(options.Schema);
        var l = EventStoreStartup.Quote(_legacy);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        var sql = $"create schema {l};\n" +
                  string.Join("\n", Tables.Select(t => $"alter table if exists {s}.{t} set schema {l};")) +
                  $"\nalter sequence if exists {s}.mt_events_sequence set schema {l};";
        await EventStoreStartup.ExecuteAsync(conn, sql, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Appends the legacy streams through Marten, unless that was done already.</summary>
    public async Task CopyAsync(CancellationToken cancellationToken)
    {
        if (!await ExistsAsync("mt_events", cancellationToken) || await ExistsAsync("migrated", cancellationToken)) return;
        var types = new LegacyEventTypes();
        var l = EventStoreStartup.Quote(_legacy);
        var streams = new List<(string Tenant, string Id, string Type)>();
        await using (var cmd = new NpgsqlCommand($"select tenant_id, id, type from {l}.mt_streams order by tenant_id, created, id", conn))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await r.ReadAsync(cancellationToken)) streams.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
        }

        var copied = 0;
        foreach (var (tenant, id, type) in streams)
        {
            var events = new List<object>();
            await using (var cmd = new NpgsqlCommand($"select type, type_version, data::text from {l}.mt_events where tenant_id = $1 and stream_id = $2 order by version", conn))
            {
                cmd.Parameters.AddWithValue(tenant);
                cmd.Parameters.AddWithValue(id);
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await r.ReadAsync(cancellationToken)) events.Add(types.Deserialize(r.GetString(0), r.GetInt32(1), r.GetString(2)));
            }

            if (type == "cdc_channel_checkpoint") events = events.OfType<ChannelCheckpointed>().TakeLast(1).Cast<object>().ToList();
            if (events.Count == 0) continue;
            await using var session = store.LightweightSession(tenant);
            if (await session.Events.FetchStreamStateAsync(id, cancellationToken) is not null) continue;
            session.Events.StartStream(id, events.ToArray());
            await session.SaveChangesAsync(cancellationToken);
            copied++;
        }

        await EventStoreStartup.ExecuteAsync(conn, $"create table {l}.migrated (at timestamptz not null default now(), streams int not null)", cancellationToken);
        await EventStoreStartup.ExecuteAsync(conn, $"insert into {l}.migrated (streams) values ($1)", cancellationToken, copied);
        logger.LogWarning("migrated {Streams} streams of the previous event store into Marten; the old tables stay in schema {Legacy}", copied, _legacy);
    }

    private async Task<bool> ExistsAsync(string table, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("select count(*) from information_schema.tables where table_schema = $1 and table_name = $2", conn);
        cmd.Parameters.AddWithValue(_legacy);
        cmd.Parameters.AddWithValue(table);
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken))! > 0;
    }
}
