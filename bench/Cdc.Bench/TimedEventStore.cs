using System.Diagnostics;
using Cdc.Application.EventStore;
using Cdc.Application.Replication.Checkpoints;

namespace Cdc.Bench;

/// <summary>
/// An <see cref="IEventStore"/> that times the calls it passes on: how long the pipeline spends writing checkpoints
/// (the CheckpointRecorder writes them one at a time, so their sum is time the channel loops waited in turn).
/// </summary>
public sealed class TimedEventStore(IEventStore inner) : IEventStore
{
    private long _calls;
    private long _ticks;
    private long _maxTicks;

    /// <summary>Appends and trims so far.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Their summed duration.</summary>
    public TimeSpan Total => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks));

    /// <summary>The longest one.</summary>
    public TimeSpan Max => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxTicks));

    public Task<EventStream> FetchStreamAsync(string streamId, CancellationToken cancellationToken) =>
        inner.FetchStreamAsync(streamId, cancellationToken);

    public Task<long> AppendAsync(StreamAppend append, CancellationToken cancellationToken) =>
        TimeAsync(() => inner.AppendAsync(append, cancellationToken));

    public Task TrimStreamAsync(string streamId, string streamType, int keepLast, CancellationToken cancellationToken) =>
        TimeAsync(async () => { await inner.TrimStreamAsync(streamId, streamType, keepLast, cancellationToken); return 0; });

    private async Task<T> TimeAsync<T>(Func<Task<T>> call)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await call();
        }
        finally
        {
            var ticks = Stopwatch.GetTimestamp() - start;
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _ticks, ticks);
            long max;
            while (ticks > (max = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, ticks, max) != max)
            {
            }
        }
    }
}
