using Cdc.Application.EventStore;
using Cdc.Application.Tasks;
using JasperFx.Events;
using Marten;
using Marten.Exceptions;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// The application's event store port on Marten. An append is one Marten session (one transaction) with the events
/// and the inline projections; the expected version is checked by Marten (a lost race is a
/// <see cref="ConcurrencyConflict"/>, never a duplicate). Appends to different streams do not wait for each other;
/// only task creates of one tenant take a transaction-level advisory lock, so the task limit holds exactly.
/// </summary>
public sealed class MartenEventStore(IDocumentStore store, EventStoreOptions options) : Application.EventStore.IEventStore
{
    /// <summary>Test seam: runs inside the append's transaction after its statements and before it commits.</summary>
    internal Func<CancellationToken, Task>? BeforeCommit { get; set; }

    public async Task<EventStream> FetchStreamAsync(string streamId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession(options.Tenant);
        var events = await session.Events.FetchStreamAsync(streamId, token: cancellationToken);
        return new EventStream(streamId, events.Count == 0 ? 0 : events[^1].Version, events.Select(ToRecorded).ToList());
    }

    public async Task<long> AppendAsync(StreamAppend append, CancellationToken cancellationToken)
    {
        if (append.Events.Count == 0) throw new ArgumentException("nothing to append", nameof(append));
        await using var session = store.LightweightSession(options.Tenant);
        if (BeforeCommit is { } hook) ((ITransactionParticipantRegistrar)session).AddTransactionParticipant(new BeforeCommitHook(hook));
        var events = append.Events.ToArray();
        var newVersion = append.ExpectedVersion + events.Length;
        try
        {
            if (append.ExpectedVersion == 0)
            {
                if (append.LiveStreamLimit is { } limit)
                    ((ITransactionParticipantRegistrar)session).AddTransactionParticipant(new LiveTaskLimit(options, TaskTable, limit));

                session.Events.StartStream(append.StreamId, events);
            }
            else
            {
                session.Events.Append(append.StreamId, newVersion, events);
            }

            await session.SaveChangesAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is Marten.Exceptions.ExistingStreamIdCollisionException or JasperFx.Events.ExistingStreamIdCollisionException or JasperFx.ConcurrencyException
                                   || ex is MartenCommandException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } })
        {
            throw new ConcurrencyConflict(append.StreamId, append.ExpectedVersion, await VersionAsync(append.StreamId));
        }

        return newVersion;
    }

    public async Task TrimStreamAsync(string streamId, string streamType, int keepLast, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepLast);
        var version = await VersionAsync(streamId);
        if (version <= keepLast + 1) return;
        await using var session = store.LightweightSession(options.Tenant);
        switch (streamType)
        {
            case StreamTypes.ChannelCheckpoint:
                await session.Events.CompactStreamAsync<ChannelPositionDocument>(streamId, request => Before(request, version - keepLast, cancellationToken));
                break;
            case StreamTypes.TargetTime:
                await session.Events.CompactStreamAsync<TargetTimeDocument>(streamId, request => Before(request, version - keepLast, cancellationToken));
                break;
            default:
                throw new ArgumentException($"streams of type {streamType} keep their history", nameof(streamType));
        }

        await session.SaveChangesAsync(cancellationToken);
    }

    private static void Before<T>(JasperFx.Events.Protected.StreamCompactingRequest<T> request, long version, CancellationToken cancellationToken) where T : class
    {
        request.Version = version;
        request.CancellationToken = cancellationToken;
    }

    /// <summary>
    /// The task limit of a create, checked as the last step of its transaction, after its statements and right before
    /// its commit: the tenant's create lock is taken there, and the tasks that exist (not deleted) are counted under it,
    /// this create's own included. The lock is held for two round trips (this check and the commit); taken before the
    /// statements, it was also held while Marten read the sequence, loaded the projection's documents and wrote the
    /// batch, and every other create of the tenant waited for all of them.
    /// </summary>
    private sealed class LiveTaskLimit(EventStoreOptions options, string taskTable, int limit) : ITransactionParticipant
    {
        public async Task BeforeCommitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken token)
        {
            // Two statements in one batch; PostgreSQL runs them in order, and under READ COMMITTED the count's snapshot
            // is taken when it starts, after the lock was granted: it sees every create that committed before.
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("select pg_advisory_xact_lock($1)") { Parameters = { new() { Value = options.CreateLockKey } } },
                    new NpgsqlBatchCommand($"select count(*) from {taskTable} where tenant_id = $1") { Parameters = { new() { Value = options.Tenant } } },
                },
            };
            long live;
            await using (var reader = await batch.ExecuteReaderAsync(token))
            {
                await reader.NextResultAsync(token);
                await reader.ReadAsync(token);
                live = reader.GetInt64(0);
            }

            // The count includes this create's own view, written by the statements before.
            if (live > limit) throw new LiveStreamLimitReached(limit);
        }
    }

    private string TaskTable => _taskTable ??= store.Options.FindOrResolveDocumentType(typeof(TaskView)).TableName.QualifiedName;
    private string? _taskTable;

    private async Task<long> VersionAsync(string streamId)
    {
        await using var session = store.QuerySession(options.Tenant);
        return (await session.Events.FetchStreamStateAsync(streamId))?.Version ?? 0;
    }

    /// <summary>Runs the test seam after the append's statements, inside its transaction.</summary>
    private sealed class BeforeCommitHook(Func<CancellationToken, Task> hook) : ITransactionParticipant
    {
        public Task BeforeCommitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken token) => hook(token);
    }

    internal static RecordedEvent ToRecorded(IEvent e) =>
        new(e.Sequence, e.Id, e.StreamKey ?? e.StreamId.ToString(), e.Version, e.EventTypeName, e.Data, e.Timestamp);
}
