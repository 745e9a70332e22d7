using System.Collections.Concurrent;
using Cdc.Application.Tasks;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// get and list from memory, as long as nothing behind a view changed (<see cref="TaskViewChanges"/>: this server's
/// own commits at once, other servers' by their notices). A view read from the database is kept only if no change
/// to it was seen while it was read, so a change that lands during a read is never hidden behind an older answer.
/// Without a listening connection nothing is cached, and every cached answer is re-read after <see cref="MaxAge"/>
/// anyway, in case a change reached the database some other way.
/// </summary>
public sealed class CachedTaskViews(MartenTaskViews database, TaskViewChanges changes, TimeProvider clock) : ICachedTaskViews
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Cached> _views = new(StringComparer.Ordinal);
    private volatile Membership? _membership;

    public async Task<TaskView?> GetAsync(string taskId, CancellationToken cancellationToken)
    {
        if (!changes.Listening) return await database.GetAsync(taskId, cancellationToken);
        var epoch = changes.Epoch;
        var stamp = changes.StampOf(taskId);
        if (_views.TryGetValue(taskId, out var cached) && cached.IsCurrent(epoch, stamp, clock)) return cached.View;
        var view = await database.GetAsync(taskId, cancellationToken);
        Keep(taskId, view, epoch, stamp);
        return view;
    }

    public async Task<IReadOnlyList<TaskView>> ListAsync(CancellationToken cancellationToken)
    {
        if (!changes.Listening) return await database.ListAsync(cancellationToken);
        var epoch = changes.Epoch;
        var anyChange = changes.Any;
        if (_lastList is { } last && last.Epoch == epoch && last.Any == anyChange && clock.GetElapsedTime(last.OldestReadAt) < MaxAge)
            return last.Views;

        if (_membership is { } members && members.Epoch == epoch && members.Stamp == changes.Membership
            && clock.GetElapsedTime(members.ReadAt) < MaxAge)
        {
            var views = new TaskView?[members.TaskIds.Count];
            Dictionary<string, (int Index, long Stamp)>? stale = null;
            var oldest = members.ReadAt;
            for (var i = 0; i < views.Length; i++)
            {
                var taskId = members.TaskIds[i];
                var stamp = changes.StampOf(taskId);
                if (_views.TryGetValue(taskId, out var cached) && cached.IsCurrent(epoch, stamp, clock))
                {
                    views[i] = cached.View;
                    oldest = Math.Min(oldest, cached.ReadAt);
                }
                else
                {
                    (stale ??= new Dictionary<string, (int Index, long Stamp)>(StringComparer.Ordinal))[taskId] = (i, stamp);
                }
            }

            if (stale is null)
            {
                // Every view was current and nothing changed meanwhile: the same answer holds until something changes.
                var answer = views.OfType<TaskView>().ToList();
                if (changes.Any == anyChange) _lastList = new ListAnswer(answer, epoch, anyChange, oldest);
                return answer;
            }

            foreach (var view in await database.GetManyAsync(stale.Keys, cancellationToken))
            {
                var (index, stamp) = stale[view.TaskId];
                views[index] = view;
                Keep(view.TaskId, view, epoch, stamp);
            }

            // A task in the set but not found was deleted while this was read: its delete changed the set, and the
            // next list reads the set again. This answer leaves it out, as a list started after the delete would.
            return views.OfType<TaskView>().ToList();
        }

        var any = changes.Any;
        var membership = changes.Membership;
        var all = await database.ListAsync(cancellationToken);
        if (changes.Any == any && changes.Epoch == epoch)
        {
            foreach (var view in all) Keep(view.TaskId, view, epoch, changes.StampOf(view.TaskId));
            _membership = new Membership(all.Select(v => v.TaskId).ToList(), epoch, membership, clock.GetTimestamp());
        }

        return all;
    }

    private void Keep(string taskId, TaskView? view, long epoch, long stamp)
    {
        // Not-found answers are not kept: they would let any id a client sends take memory.
        if (view is null)
        {
            _views.TryRemove(taskId, out _);
            return;
        }

        if (changes.Epoch == epoch && changes.StampOf(taskId) == stamp) _views[taskId] = new Cached(view, epoch, stamp, clock.GetTimestamp());
    }

    private sealed record Cached(TaskView View, long Epoch, long Stamp, long ReadAt)
    {
        public bool IsCurrent(long epoch, long stamp, TimeProvider clock) =>
            Epoch == epoch && Stamp == stamp && clock.GetElapsedTime(ReadAt) < MaxAge;
    }

    /// <summary>
    /// The last list answered from memory, good while no change of any task was seen since (<see cref="TaskViewChanges.Any"/>)
    /// and its oldest view is younger than <see cref="MaxAge"/>: a list of 100 tasks then costs no lookup per task.
    /// </summary>
    private volatile ListAnswer? _lastList;

    private sealed record ListAnswer(IReadOnlyList<TaskView> Views, long Epoch, long Any, long OldestReadAt);

    /// <summary>The tenant's task ids in list order, as read under the set's counter.</summary>
    private sealed record Membership(IReadOnlyList<string> TaskIds, long Epoch, long Stamp, long ReadAt);
}
