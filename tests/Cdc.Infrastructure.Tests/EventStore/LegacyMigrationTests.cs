using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Testing;
using Npgsql;

namespace Cdc.Infrastructure.Tests.EventStore;

/// <summary>A database written by the previous version of this server (its own event store tables) is migrated on start.</summary>
public sealed class LegacyMigrationTests
{
    // The previous version's tables (schema "cdc"), as it created them, with two tenants' streams: a running task with
    // a checkpoint stream, a task paused under the event's version 1 (no reason), and a deleted task.
    private const string LegacyStore = """
        create schema cdc;
        create table cdc.mt_streams (tenant_id text not null, id text not null, type text not null, version bigint not null,
            created timestamptz not null, "timestamp" timestamptz not null, is_archived boolean not null default false, primary key (tenant_id, id));
        create sequence cdc.mt_events_sequence;
        create table cdc.mt_events (seq_id bigint primary key, id uuid not null unique, tenant_id text not null, stream_id text not null,
            version bigint not null, type text not null, type_version int not null, data jsonb not null, "timestamp" timestamptz not null,
            unique (tenant_id, stream_id, version), foreign key (tenant_id, stream_id) references cdc.mt_streams (tenant_id, id));
        create table cdc.task_views (tenant_id text not null, task_id text not null, view jsonb not null, created timestamptz not null, primary key (tenant_id, task_id));
        create table cdc.task_leases (tenant_id text not null, task_id text not null, owner text not null, expires_at timestamptz not null, primary key (tenant_id, task_id));
        """;

    private const string Created = """{"task_id":"%ID%","definition":{"target":{"uri":"http://target:19530","connect_timeout_seconds":10,"token":"v1:cipher"},"selection":{"collection_infos":[{"name":"*"}]}},"created_at":"2026-11-01T10:00:00+00:00"}""";

    [Fact]
    public async Task The_previous_versions_store_is_moved_aside_and_its_streams_replayed_into_Marten()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await ExecuteAsync(database, LegacyStore);
        var seq = 0;
        await StreamAsync(database, "cdc", "running", "cdc_task", false, ("task_created", 1, Created.Replace("%ID%", "running")));
        await StreamAsync(database, "cdc", "paused", "cdc_task", false,
            ("task_created", 1, Created.Replace("%ID%", "paused")),
            ("task_paused", 1, """{"task_id":"paused","paused_at":"2026-11-02T10:00:00+00:00"}"""));
        await StreamAsync(database, "cdc", "gone", "cdc_task", true,
            ("task_created", 1, Created.Replace("%ID%", "gone")), ("task_deleted", 1, """{"task_id":"gone","deleted_at":"2026-11-03T10:00:00+00:00"}"""));
        await StreamAsync(database, "cdc", "running/by-dev-rootcoord-dml_0", "cdc_channel_checkpoint", false,
            ("channel_checkpointed", 1, """{"task_id":"running","channel":"by-dev-rootcoord-dml_0","position":"AQAAAAAAAAA=","timestamp":26214400,"checkpointed_at":"2026-11-01T10:00:01+00:00"}"""),
            ("channel_checkpointed", 1, """{"task_id":"running","channel":"by-dev-rootcoord-dml_0","position":"AgAAAAAAAAA=","timestamp":52428800,"checkpointed_at":"2026-11-01T10:00:02+00:00"}"""));
        await StreamAsync(database, "tenant2", "elsewhere", "cdc_task", false, ("task_created", 1, Created.Replace("%ID%", "elsewhere")));

        await using (var h = await EventStoreHarness.StartAsync(database: database.Borrow()))
        {
            var views = await h.Views.ListAsync(default);
            Assert.Equal(["paused", "running"], views.Select(v => v.TaskId).Order());
            var running = views.Single(v => v.TaskId == "running");
            var paused = views.Single(v => v.TaskId == "paused");
            Assert.Equal(TaskState.Running, running.State);
            Assert.Equal(("by-dev-rootcoord-dml_0", "AgAAAAAAAAA=", 52428800UL), (running.Positions.Single().Channel, running.Positions.Single().Position, running.Positions.Single().Timestamp));
            Assert.Equal((TaskState.Paused, TaskPaused.ManualReason), (paused.State, paused.Reason)); // version 1 upcast
            var created = Assert.IsType<TaskCreated>((await h.Store.FetchStreamAsync("running", default)).Events[0].Data);
            Assert.Equal("v1:cipher", created.Definition.Target.Token!.Ciphertext);
            Assert.Equal(new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero), created.CreatedAt);
            // the deleted task stays deleted, and its id stays taken
            Assert.Equal(["task_created", "task_deleted"], (await h.Store.FetchStreamAsync("gone", default)).Events.Select(e => e.Type));
            Assert.Equal(["elsewhere"], (await h.ForTenant("tenant2").Views.ListAsync(default)).Select(v => v.TaskId));
            // new events continue the migrated streams
            Assert.Equal(3, await h.Store.AppendAsync(new StreamAppend("paused", StreamTypes.Task, 2, [new TaskResumed("paused", DateTimeOffset.UtcNow)]), default));
        }

        // the old tables are kept aside; a second start migrates nothing twice
        Assert.Equal(8L, await ScalarAsync(database, "select count(*) from cdc_legacy_v1.mt_events"));
        await using (var again = await EventStoreHarness.StartAsync(database: database.Borrow()))
        {
            Assert.Equal(3, (await again.Store.FetchStreamAsync("paused", default)).Version);
            Assert.Equal(2, (await again.Views.ListAsync(default)).Count);
        }

        async Task StreamAsync(PostgresDatabase db, string tenant, string id, string type, bool archived, params (string Type, int Version, string Data)[] events)
        {
            await ExecuteAsync(db, $"insert into cdc.mt_streams values ('{tenant}', '{id}', '{type}', {events.Length}, now(), now(), {archived})");
            var version = 0;
            foreach (var e in events)
                await ExecuteAsync(db, $"insert into cdc.mt_events values ({++seq}, gen_random_uuid(), '{tenant}', '{id}', {++version}, '{e.Type}', {e.Version}, '{e.Data}'::jsonb, now())");
            await ExecuteAsync(db, $"select setval('cdc.mt_events_sequence', {seq})");
        }
    }

    private static async Task ExecuteAsync(PostgresDatabase database, string sql)
    {
        await using var conn = new NpgsqlConnection(database.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(PostgresDatabase database, string sql)
    {
        await using var conn = new NpgsqlConnection(database.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }
}
