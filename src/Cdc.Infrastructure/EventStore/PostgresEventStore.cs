using Cdc.Application.EventStore;
using Cdc.Infrastructure.EventStore.Projections;
using Npgsql;
using NpgsqlTypes;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// The event store on PostgreSQL. An append is one transaction: take the append lock, check the expected version
/// (and the live stream limit), take sequence numbers, insert the events, run the inline projections, NOTIFY.
/// Appends are serialised by the lock, which keeps sequence numbers visible in order (see
/// <see cref="EventStoreOptions.AppendLockKey"/>); UNIQUE(stream, version) is the backstop that turns any race that
/// slipped through into a <see cref="ConcurrencyConflict"/>, never a duplicate.
/// </summary>
public sealed class PostgresEventStore(
    NpgsqlDataSource dataSource,
    EventStoreOptions options,
    EventTypes types,
    ProjectionRunner projections,
    TimeProvider clock) : IEventStore
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    /// <summary>Test seam: runs inside the append transaction just before it commits.</summary>
    internal Func<CancellationToken, Task>? BeforeCommit { get; set; }

    public async Task<EventStream> FetchStreamAsync(string streamId, CancellationToken cancellationToken)
    {
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        long version = 0;
        var archived = false;
        await using (var cmd = new NpgsqlCommand($"select version, is_archived from {_s}.mt_streams where tenant_id = $1 and id = $2", conn, tx))
        {
            cmd.Parameters.AddWithValue(options.Tenant);
            cmd.Parameters.AddWithValue(streamId);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            if (await r.ReadAsync(cancellationToken)) { version = r.GetInt64(0); archived = r.GetBoolean(1); }
        }
        var events = new List<RecordedEvent>();
        if (version > 0)
        {
            await using var cmd = new NpgsqlCommand(
                $"{EventColumns} from {_s}.mt_events where tenant_id = $1 and stream_id = $2 order by version", conn, tx);
            cmd.Parameters.AddWithValue(options.Tenant);
            cmd.Parameters.AddWithValue(streamId);
            events.AddRange(await ReadEventsAsync(cmd, types, cancellationToken));
        }
        await tx.CommitAsync(cancellationToken);
        return new EventStream(streamId, version, archived, events);
    }

    public async Task<long> AppendAsync(StreamAppend append, CancellationToken cancellationToken)
    {
        if (append.Events.Count == 0) throw new ArgumentException("nothing to append", nameof(append));
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        try
        {
            await ExecuteAsync(conn, "select pg_advisory_xact_lock($1)", cancellationToken, options.AppendLockKey);

            var (actual, archived) = await CurrentVersionAsync(conn, append.StreamId, cancellationToken);
            if (actual != append.ExpectedVersion) throw new ConcurrencyConflict(append.StreamId, append.ExpectedVersion, actual);
            if (archived) throw new StreamArchived(append.StreamId);
            if (actual == 0 && append.LiveStreamLimit is { } limit &&
                await LiveStreamsAsync(conn, append.StreamType, cancellationToken) >= limit)
                throw new LiveStreamLimitReached(limit);

            var now = clock.GetUtcNow();
            var newVersion = actual + append.Events.Count;
            if (actual == 0)
                await ExecuteAsync(conn, $"""insert into {_s}.mt_streams (tenant_id, id, type, version, created, "timestamp", is_archived) values ($1, $2, $3, $4, $5, $5, $6)""",
                    cancellationToken, options.Tenant, append.StreamId, append.StreamType, newVersion, now, append.ArchiveStream);
            else
                await ExecuteAsync(conn, $"""update {_s}.mt_streams set version = $3, "timestamp" = $4, is_archived = $5 where tenant_id = $1 and id = $2""",
                    cancellationToken, options.Tenant, append.StreamId, newVersion, now, append.ArchiveStream);

            var recorded = new List<RecordedEvent>(append.Events.Count);
            var version = actual;
            foreach (var e in append.Events)
            {
                var (alias, typeVersion) = types.Describe(e);
                var id = Guid.CreateVersion7(now);
                await using var cmd = new NpgsqlCommand($"""
                    insert into {_s}.mt_events (seq_id, id, tenant_id, stream_id, version, type, type_version, data, "timestamp")
                    values (nextval('{_s}.mt_events_sequence'), $1, $2, $3, $4, $5, $6, $7, $8) returning seq_id
                    """, conn);
                cmd.Parameters.AddWithValue(id);
                cmd.Parameters.AddWithValue(options.Tenant);
                cmd.Parameters.AddWithValue(append.StreamId);
                cmd.Parameters.AddWithValue(++version);
                cmd.Parameters.AddWithValue(alias);
                cmd.Parameters.AddWithValue(typeVersion);
                cmd.Parameters.Add(new NpgsqlParameter { Value = types.Serialize(e), NpgsqlDbType = NpgsqlDbType.Jsonb });
                cmd.Parameters.AddWithValue(now);
                var seq = (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
                recorded.Add(new RecordedEvent(seq, id, append.StreamId, version, alias, e, now));
            }

            await projections.ApplyAsync(conn, recorded, cancellationToken);
            await ExecuteAsync(conn, "select pg_notify($1, $2)", cancellationToken, options.NotifyChannel, recorded[^1].Sequence.ToString());
            if (BeforeCommit is { } hook) await hook(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return newVersion;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            var (actual, _) = await CurrentVersionAsync(conn: null, append.StreamId, CancellationToken.None);
            throw new ConcurrencyConflict(append.StreamId, append.ExpectedVersion, actual);
        }
    }

    public async Task<int> TrimStreamAsync(string streamId, int keepLast, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepLast);
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"""
            delete from {_s}.mt_events e using {_s}.mt_streams s
            where e.tenant_id = $1 and e.stream_id = $2 and s.tenant_id = e.tenant_id and s.id = e.stream_id
              and e.version <= s.version - $3
            """, conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(streamId);
        cmd.Parameters.AddWithValue((long)keepLast);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    internal const string EventColumns = """select seq_id, id, stream_id, version, type, type_version, data::text, "timestamp" """;

    internal static async Task<List<RecordedEvent>> ReadEventsAsync(NpgsqlCommand cmd, EventTypes types, CancellationToken cancellationToken)
    {
        var list = new List<RecordedEvent>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            var type = r.GetString(4);
            list.Add(new RecordedEvent(
                r.GetInt64(0), r.GetGuid(1), r.GetString(2), r.GetInt64(3), type,
                types.Deserialize(type, r.GetInt32(5), r.GetString(6)),
                r.GetFieldValue<DateTimeOffset>(7)));
        }
        return list;
    }

    private async Task<(long Version, bool Archived)> CurrentVersionAsync(NpgsqlConnection? conn, string streamId, CancellationToken cancellationToken)
    {
        await using var own = conn is null ? await dataSource.OpenConnectionAsync(cancellationToken) : null;
        await using var cmd = new NpgsqlCommand($"select version, is_archived from {_s}.mt_streams where tenant_id = $1 and id = $2", conn ?? own);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(streamId);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? (r.GetInt64(0), r.GetBoolean(1)) : (0, false);
    }

    private async Task<long> LiveStreamsAsync(NpgsqlConnection conn, string type, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"select count(*) from {_s}.mt_streams where tenant_id = $1 and type = $2 and not is_archived", conn);
        cmd.Parameters.AddWithValue(options.Tenant);
        cmd.Parameters.AddWithValue(type);
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.AddWithValue(a);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
