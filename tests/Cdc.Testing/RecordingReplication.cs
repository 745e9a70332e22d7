using System.Collections.Concurrent;
using Cdc.Application.Replication.Supervision;

namespace Cdc.Testing;

/// <summary>
/// Stands in for the replication pipeline behind <see cref="ITaskReplication"/>: records which tasks run, and can be
/// told to halt a task's run with a reason.
/// </summary>
public sealed class RecordingReplication : ITaskReplication
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _halts = new();

    public ConcurrentQueue<string> Log { get; } = new();
    public ConcurrentDictionary<string, int> Running { get; } = new();
    public ConcurrentDictionary<string, TaskRunContext> LastContext { get; } = new();

    public async Task RunAsync(TaskRunContext context, CancellationToken cancellationToken)
    {
        Running.AddOrUpdate(context.TaskId, 1, (_, n) => n + 1);
        LastContext[context.TaskId] = context;
        Log.Enqueue($"start {context.TaskId}");
        var halt = _halts.GetOrAdd(context.TaskId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            var reason = await halt.Task.WaitAsync(cancellationToken);
            _halts.TryRemove(context.TaskId, out _);
            throw new ReplicationHalted(reason);
        }
        finally
        {
            Running.AddOrUpdate(context.TaskId, 0, (_, n) => n - 1);
            Log.Enqueue($"stop {context.TaskId}");
        }
    }

    public void Halt(string taskId, string reason) =>
        _halts.GetOrAdd(taskId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(reason);

    public int RunningCount(string taskId) => Running.GetValueOrDefault(taskId);
}
