using Cdc.Application.EventStore;
using Cdc.Application.Tasks;
using JasperFx.Events;
using Marten;
using Marten.Exceptions;
using Marten.Services;
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
        if (append is { ExpectedVersion: 0, LiveStreamLimit: { } limit }) return await CreateWithinLimitAsync(append, limit, cancellationToken);
        await using var session = store.LightweightSession(options.Tenant);
        return await SaveAsync(session, append, cancellationToken);
    }

    /// <summary>
    /// A create under the tenant's task limit, in one round trip from its first statement to its commit. The session
    /// writes into a transaction of ours that Marten does not commit; at the end of its batch, after the events and the
    /// projections, <see cref="CommitWithinLimit"/> adds the tenant's create lock, a count of
    /// the tasks that exist (this create's own view included) that fails the batch when they are over the limit, and
    /// the commit. The lock is held only while PostgreSQL runs the end of that batch. When the lock and the count came
    /// before Marten's commit, the lock was also held until this server got round to sending the commit, and under
    /// load every other create of the tenant queued behind that. A refused create fails inside Marten's batch, so
    /// Marten fills the event sequence numbers it took with tombstones, as for any failed append, and the audit feed
    /// and the event subscription do not wait on a gap.
    /// </summary>
    private async Task<long> CreateWithinLimitAsync(StreamAppend append, int limit, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var sessionOptions = SessionOptions.ForTransaction(transaction);
        sessionOptions.TenantId = options.Tenant;
        // The test seam runs after the batch: then the commit is sent after it.
        var commitInBatch = BeforeCommit is null;
        sessionOptions.Listeners.Add(new CommitWithinLimit(options, TaskTable, limit, commitInBatch));
        await using var session = store.LightweightSession(sessionOptions);
        try
        {
            var version = await SaveAsync(session, append, cancellationToken);
            if (!commitInBatch) await transaction.CommitAsync(cancellationToken);
            return version;
        }
        catch (Exception ex) when (IsOverLimit(ex))
        {
            throw new LiveStreamLimitReached(limit);
        }
    }

    /// <summary>Words in the error of a create over the task limit, which tell it from any other (PostgreSQL's log shows them).</summary>
    private const string LimitMarker = "live tasks over the limit:";

    private static bool IsOverLimit(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is PostgresException { SqlState: PostgresErrorCodes.InvalidTextRepresentation } pg && pg.MessageText.Contains(LimitMarker, StringComparison.Ordinal))
                return true;
        return false;
    }

    /// <summary>The end of a limited create's batch: the lock, the count and, unless a test seam runs first, the commit.</summary>
    private sealed class CommitWithinLimit(EventStoreOptions options, string taskTable, int limit, bool commit) : DocumentSessionListenerBase
    {
        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
        {
            session.QueueSqlCommand("select pg_advisory_xact_lock(?)", options.CreateLockKey);
            // A cast of the explanation to a number fails the batch (skipping the commit) when the tasks are over the
            // limit. The count's snapshot is taken when it starts, after the lock was granted (READ COMMITTED): it sees
            // every create that committed before.
            session.QueueSqlCommand(
                $"select case when n > ? then ('{LimitMarker} ' || n || ' > ' || ?)::int end from (select count(*) as n from {taskTable} where tenant_id = ?) live",
                (long)limit, (long)limit, options.Tenant);
            if (commit) session.QueueSqlCommand("commit");
            return Task.CompletedTask;
        }
    }

    private async Task<long> SaveAsync(IDocumentSession session, StreamAppend append, CancellationToken cancellationToken)
    {
        if (BeforeCommit is { } hook) ((ITransactionParticipantRegistrar)session).AddTransactionParticipant(new BeforeCommitHook(hook));
        var events = append.Events.ToArray();
        var newVersion = append.ExpectedVersion + events.Length;
        try
        {
            if (append.ExpectedVersion == 0) session.Events.StartStream(append.StreamId, events);
            else session.Events.Append(append.StreamId, newVersion, events);
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
