using System.Collections.Concurrent;
using System.Text.Json;
using Cdc.Application.EventStore;
using Cdc.Application.Tasks;
using JasperFx.Events;
using Marten;
using Marten.Services;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// What this server knows about changes to its tenant's task views, for <see cref="CachedTaskViews"/>: a counter per
/// task that goes up whenever something behind the task's view changed (its stream, a checkpoint, its runtime report),
/// a counter for the set of tasks (creates and deletes), and an epoch that goes up when changes may have been missed
/// (the server was not listening). A cached view is good while the counters it was read under are unchanged.
/// </summary>
public sealed class TaskViewChanges(EventStoreOptions options)
{
    /// <summary>The PostgreSQL notification channel of every CDC server; a notice names its schema and tenant.</summary>
    public const string Channel = "cdc_task_view_changes";

    /// <summary>How many tasks' counters are kept at most (about 100 bytes each).</summary>
    public const int MaxTrackedTasks = 100_000;

    private readonly ConcurrentDictionary<string, long> _taskStamps = new(StringComparer.Ordinal);
    private long _membership;
    private long _epoch;
    private long _any;
    private volatile bool _listening;

    /// <summary>Whether notices from other servers arrive (the listening connection is up); no cache is used without.</summary>
    public bool Listening => _listening;

    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>Goes up with every change of any task (the whole list was read under it).</summary>
    public long Any => Interlocked.Read(ref _any);

    public long Membership => Interlocked.Read(ref _membership);

    public long StampOf(string taskId) => _taskStamps.GetValueOrDefault(taskId);

    /// <summary>Something behind this task's view changed; <paramref name="taskStream"/>: its own stream (it may have been created or deleted).</summary>
    public void Changed(string taskId, bool taskStream)
    {
        // Deleted tasks keep their counters; past a bound they are all dropped at once, and the epoch goes up so that
        // no view cached under a dropped counter is taken for current.
        if (_taskStamps.Count >= MaxTrackedTasks)
        {
            _taskStamps.Clear();
            Interlocked.Increment(ref _epoch);
        }

        _taskStamps.AddOrUpdate(taskId, 1, static (_, n) => n + 1);
        if (taskStream) Interlocked.Increment(ref _membership);
        Interlocked.Increment(ref _any);
    }

    /// <summary>Notices may have been missed, or none arrive from now on: nothing cached before holds.</summary>
    public void Listen(bool listening)
    {
        _listening = listening;
        Interlocked.Increment(ref _epoch);
        Interlocked.Increment(ref _any);
    }

    /// <summary>A notice from <see cref="Channel"/>, applied when it is about this server's schema and tenant.</summary>
    public void Received(string payload)
    {
        TaskViewChangeNotice? notice;
        try
        {
            notice = JsonSerializer.Deserialize(payload, TaskViewChangeNoticeJson.Default.TaskViewChangeNotice);
        }
        catch (JsonException)
        {
            return;
        }

        if (notice is { TaskId: { } taskId } && notice.Schema == options.Schema && notice.Tenant == options.Tenant) Changed(taskId, notice.TaskStream);
    }

    /// <summary>The task a stream belongs to: a task's own stream is its id, the others are <c>{task}/...</c>.</summary>
    internal static (string TaskId, bool TaskStream) TaskOf(string streamKey)
    {
        var slash = streamKey.IndexOf('/');
        return slash < 0 ? (streamKey, true) : (streamKey[..slash], false);
    }

    internal static string Notice(string schema, string tenant, string taskId, bool taskStream) =>
        JsonSerializer.Serialize(new TaskViewChangeNotice(schema, tenant, taskId, taskStream), TaskViewChangeNoticeJson.Default.TaskViewChangeNotice);
}

/// <summary>The payload of a notice on <see cref="TaskViewChanges.Channel"/>.</summary>
public sealed record TaskViewChangeNotice(string Schema, string Tenant, string TaskId, bool TaskStream);

[System.Text.Json.Serialization.JsonSerializable(typeof(TaskViewChangeNotice))]
internal sealed partial class TaskViewChangeNoticeJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>
/// A Marten session listener on every session of the store: once a session that touched a task's stream, a checkpoint
/// stream or a runtime report has committed, it tells this server's <see cref="TaskViewChanges"/> (before SaveChanges
/// returns, so this server's next read sees its own change) and hands a notice per task to
/// <see cref="TaskViewChangeNotices"/>, which sends them to the other servers.
/// </summary>
/// <remarks>
/// The notices are sent after the commit, not inside the writing transaction: PostgreSQL serializes the commits of
/// every transaction that issued a NOTIFY, cluster-wide, holding a lock on "database 0" until after the commit's WAL
/// flush (src/backend/commands/async.c, PreCommit_Notify). Inside the transaction that made every append (checkpoints
/// of all tasks and servers included) wait for every other one's commit.
/// </remarks>
public sealed class TaskViewChangeNotifier(string schema, TaskViewChanges? local, TaskViewChangeNotices notices) : DocumentSessionListenerBase
{
    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        var touched = Touched(commit.GetStreams(), commit.Inserted.Concat(commit.Updated).OfType<TaskRuntimeDocument>().Select(r => r.Id),
            commit.Deleted.Where(d => d.DocumentType == typeof(TaskRuntimeDocument)).Select(d => d.Id?.ToString()));
        if (touched.Count == 0) return Task.CompletedTask;
        foreach (var (taskId, taskStream) in touched) local?.Changed(taskId, taskStream);
        notices.Send(session.Database, touched.Select(t => TaskViewChanges.Notice(schema, session.TenantId, t.Key, t.Value)));
        return Task.CompletedTask;
    }

    private static Dictionary<string, bool> Touched(IEnumerable<StreamAction> streams, IEnumerable<string> runtimeReports, IEnumerable<string?> removedReports)
    {
        var touched = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var stream in streams)
        {
            if (stream.Key is not { } key) continue;
            var (taskId, taskStream) = TaskViewChanges.TaskOf(key);
            touched[taskId] = taskStream || touched.GetValueOrDefault(taskId);
        }

        foreach (var taskId in runtimeReports.Concat(removedReports))
            if (taskId is not null) touched.TryAdd(taskId, false);
        return touched;
    }
}
