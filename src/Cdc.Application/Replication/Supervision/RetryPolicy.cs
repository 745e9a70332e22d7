using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Target;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Cdc.Application.Replication.Supervision;

/// <summary>Which failures of a call a run retries.</summary>
public enum RetryOn
{
    /// <summary>Only transient ones (the target or a source channel unreachable); any other halts the run.</summary>
    Transient,

    /// <summary>Any failure, a few times (<see cref="Running.TaskReplicationOptions.MissingTargetAttempts"/>); then it halts the run.</summary>
    AnyFailureBounded,

    /// <summary>Any failure, until it succeeds or the run is stopped (the source's metadata store, say).</summary>
    AnyFailure,
}

/// <summary>
/// The one place where a task's run decides what to retry and how long to wait: a call fails, the failure is reported at
/// once (get shows the task as retrying, with the error, from the first failed call), and it is tried again after a
/// delay that doubles from <c>RetryDelay</c> up to <c>MaxRetryDelay</c>; a failure that is not retried halts the run
/// with the reference's wording. The source readers and the metadata watch, which run for as long as the task does, take
/// their delays from a <see cref="Backoff"/> of the same policy. The target client and the source readers make one
/// attempt per call: the retries are all here.
/// </summary>
public sealed class RetryPolicy
{
    private static readonly ResiliencePropertyKey<string> What = new("cdc.what");
    private static readonly ResiliencePropertyKey<bool> Failed = new("cdc.failed");

    private readonly TaskRunMonitor _monitor;
    private readonly ILogger _logger;
    private readonly string _taskId;
    private readonly TimeSpan _first;
    private readonly TimeSpan _max;
    private readonly Dictionary<RetryOn, ResiliencePipeline> _pipelines;

    public RetryPolicy(TimeSpan firstDelay, TimeSpan maxDelay, int boundedAttempts, TaskRunMonitor monitor, TimeProvider clock, ILogger logger, string taskId)
    {
        _first = firstDelay;
        _max = maxDelay;
        _monitor = monitor;
        _logger = logger;
        _taskId = taskId;
        _pipelines = Enum.GetValues<RetryOn>().ToDictionary(on => on, on => Build(on, boundedAttempts, clock));
    }

    /// <summary>Whether a failure is one the run waits out: the target or a source channel could not be reached.</summary>
    public static bool IsTransient(Exception ex) => ex is MilvusTargetException { IsRetryable: true } or SourceChannelException { IsRetryable: true };

    /// <summary>Runs <paramref name="action"/> (named <paramref name="what"/> in reports) until it succeeds.</summary>
    /// <exception cref="ReplicationHalted">It failed in a way <paramref name="on"/> does not retry.</exception>
    public async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> action, CancellationToken ct, RetryOn on = RetryOn.Transient)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(What, what);
        try
        {
            var result = await _pipelines[on].ExecuteAsync(async c => await action(c.CancellationToken), context);
            if (context.Properties.GetValue(Failed, false)) _monitor.Succeeded(what);
            return result;
        }
        catch (Exception ex) when (ex is not (ReplicationHalted or OperationCanceledException))
        {
            // Stopped while failing: a stop, not a halt.
            ct.ThrowIfCancellationRequested();
            throw ReplicationHalted.Because($"cannot {what}: {ex.Message}", ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public Task RunAsync(string what, Func<CancellationToken, Task> action, CancellationToken ct, RetryOn on = RetryOn.Transient) =>
        RunAsync(what, async c => { await action(c); return true; }, ct, on);

    /// <summary>The delays of a loop that runs for as long as the task does: reset it after progress.</summary>
    public Backoff StartBackoff() => new(_first, _max);

    private ResiliencePipeline Build(RetryOn on, int boundedAttempts, TimeProvider clock) =>
        new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } ex && !args.Context.CancellationToken.IsCancellationRequested
                    && ex is not (ReplicationHalted or OperationCanceledException) && (on != RetryOn.Transient || IsTransient(ex))),
                MaxRetryAttempts = on == RetryOn.AnyFailureBounded ? Math.Max(1, boundedAttempts - 1) : int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = _first,
                MaxDelay = _max,
                UseJitter = false,
                OnRetry = args =>
                {
                    var what = args.Context.Properties.GetValue(What, "a call");
                    args.Context.Properties.Set(Failed, true);
                    // The first failure of a streak is logged with its exception (stack and causes); the retries after it
                    // with one line and the error's message: a task whose source is down for an hour writes no stack
                    // traces after the first, and formatting them cost more CPU than the retries themselves.
                    if (args.AttemptNumber == 0)
                        _logger.LogWarning(args.Outcome.Exception, "task {TaskId}: {What} failed (attempt {Attempt}), retrying in {Delay}",
                            _taskId, what, args.AttemptNumber + 1, args.RetryDelay);
                    else
                        _logger.LogWarning("task {TaskId}: {What} failed (attempt {Attempt}), retrying in {Delay}: {Error}",
                            _taskId, what, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!.Message);
                    _monitor.Failed($"cannot {what}", args.Outcome.Exception!, ongoing: what);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
}

/// <summary>Delays that double from the first up to the last after each failure, and start again after progress.</summary>
public sealed class Backoff(TimeSpan first, TimeSpan max)
{
    private readonly TimeSpan _first = first;

    public TimeSpan Current { get; private set; } = first;

    /// <summary>Whether the last operation failed (the next delay is above the first).</summary>
    public bool AfterFailure => Current != _first;

    /// <summary>The delay to wait now; the next one doubles.</summary>
    public TimeSpan Next()
    {
        var now = Current;
        Current = TimeSpan.FromTicks(Math.Min(Current.Ticks * 2, max.Ticks));
        return now;
    }

    public void Reset() => Current = _first;
}
