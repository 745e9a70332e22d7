using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Creates the event store's tables on start (idempotent, safe when several servers start at once). The layout
/// follows Marten's: streams with a version, events with a global sequence and UNIQUE(stream, version).
/// </summary>
public static class EventStoreSchema
{
    public static async Task EnsureAsync(NpgsqlDataSource dataSource, EventStoreOptions options, CancellationToken cancellationToken)
    {
        var s = Quote(options.Schema);
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand("select pg_advisory_lock($1)", conn))
        {
            lockCmd.Parameters.AddWithValue(options.SchemaLockKey);
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await using var cmd = new NpgsqlCommand($"""
                create schema if not exists {s};
                create table if not exists {s}.mt_streams (
                    tenant_id   text        not null,
                    id          text        not null,
                    type        text        not null,
                    version     bigint      not null,
                    created     timestamptz not null,
                    "timestamp" timestamptz not null,
                    is_archived boolean     not null default false,
                    primary key (tenant_id, id));
                create index if not exists mt_streams_live on {s}.mt_streams (tenant_id, type) where not is_archived;
                create sequence if not exists {s}.mt_events_sequence;
                create table if not exists {s}.mt_events (
                    seq_id       bigint      primary key,
                    id           uuid        not null unique,
                    tenant_id    text        not null,
                    stream_id    text        not null,
                    version      bigint      not null,
                    type         text        not null,
                    type_version int         not null,
                    data         jsonb       not null,
                    "timestamp"  timestamptz not null,
                    unique (tenant_id, stream_id, version),
                    foreign key (tenant_id, stream_id) references {s}.mt_streams (tenant_id, id));
                create index if not exists mt_events_tenant_seq on {s}.mt_events (tenant_id, seq_id);
                create table if not exists {s}.projection_progress (
                    tenant_id text   not null,
                    name      text   not null,
                    last_seq  bigint not null,
                    primary key (tenant_id, name));
                create table if not exists {s}.subscription_checkpoints (
                    tenant_id text        not null,
                    name      text        not null,
                    last_seq  bigint      not null,
                    updated   timestamptz not null,
                    primary key (tenant_id, name));
                create table if not exists {s}.task_views (
                    tenant_id text        not null,
                    task_id   text        not null,
                    view      jsonb       not null,
                    created   timestamptz not null,
                    primary key (tenant_id, task_id));
                create table if not exists {s}.channel_positions (
                    tenant_id      text        not null,
                    task_id        text        not null,
                    channel        text        not null,
                    position       text        not null,
                    ts             numeric(20) not null,
                    checkpointed   timestamptz not null,
                    primary key (tenant_id, task_id, channel));
                create table if not exists {s}.task_leases (
                    tenant_id  text        not null,
                    task_id    text        not null,
                    owner      text        not null,
                    expires_at timestamptz not null,
                    primary key (tenant_id, task_id));
                create table if not exists {s}.task_runtime (
                    tenant_id     text        not null,
                    task_id       text        not null,
                    owner         text        not null,
                    last_error    text,
                    last_error_at timestamptz,
                    recovered_at  timestamptz,
                    updated       timestamptz not null,
                    stopped_at    timestamptz,
                    primary key (tenant_id, task_id));
                """, conn);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock($1)", conn);
            unlock.Parameters.AddWithValue(options.SchemaLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>Quotes a schema name given in the configuration (which is validated to be an identifier).</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
