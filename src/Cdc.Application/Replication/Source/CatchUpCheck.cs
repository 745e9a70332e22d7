using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Source;

/// <summary>
/// Whether a task has applied everything its source held a moment ago, checked once per checkpoint interval:
/// <see cref="ProbeAsync"/> asks the MQ for the newest message of each channel the task reads, and the next
/// <see cref="Check"/> compares those answers with the message each channel has completed by then (see
/// <see cref="ChannelReading.Completed"/>). Comparing with the previous probe rather than with the source's newest
/// message now keeps a source that only ticks caught up (Milvus writes a time tick on every DML channel about every
/// 200 ms, so "now" has always moved on), while messages that were waiting in the source at the probe are not.
/// Anything the check cannot tell (a channel not probed, a probe that failed, a reader being reopened, a channel that
/// has completed nothing yet while its source holds messages) reads as not caught up.
/// </summary>
/// <param name="readers">The open reader of a channel (<see cref="ChannelReading.ReaderOf"/>), null while there is none.</param>
public sealed class CatchUpCheck(string taskId, Func<string, ISourceChannelReader?> readers, TimeProvider clock, ILogger logger)
{
    private Probe? _last;

    /// <summary>
    /// The time of the last probe if every one of <paramref name="channels"/> had, in <paramref name="completed"/>,
    /// reached the newest message the probe found on it; null when not (or when there was no probe yet, or no channel).
    /// </summary>
    /// <param name="channels">Every channel the task reads now.</param>
    /// <param name="completed">What each channel had completed, taken before the checkpoints of it were written.</param>
    public DateTimeOffset? Check(IReadOnlyCollection<string> channels, IReadOnlyDictionary<string, SourcePosition> completed)
    {
        if (_last is not { } probe || channels.Count == 0) return null;
        foreach (var channel in channels)
        {
            if (!probe.Channels.TryGetValue(channel, out var seen) || seen.Reader is not { } reader) return null;
            if (seen.Newest is not { } newest) continue; // the channel held nothing
            if (!completed.TryGetValue(channel, out var done) || !Reached(reader, done, newest)) return null;
        }

        return probe.At;
    }

    /// <summary>
    /// Asks the source for the newest message of each of <paramref name="channels"/> (all at once, each within
    /// <paramref name="timeout"/>), for the next <see cref="Check"/>. A channel whose reader is not open, or whose MQ
    /// does not answer, is recorded as unknown.
    /// </summary>
    public async Task ProbeAsync(IReadOnlyCollection<string> channels, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Taken before asking: every message written before this time is at or before the answers.
        var at = clock.GetUtcNow();
        var answers = await Task.WhenAll(channels.Select(channel => AskAsync(channel, timeout, cancellationToken)));
        _last = new Probe(at, answers.ToDictionary(a => a.Channel, StringComparer.Ordinal));
    }

    private async Task<Answer> AskAsync(string channel, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (readers(channel) is not { } reader) return new Answer(channel, null, null);
        try
        {
            return new Answer(channel, reader, await reader.NewestAsync(cancellationToken).WaitAsync(timeout, clock, cancellationToken));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug(ex, "task {TaskId}: cannot tell the newest message of {Channel}", taskId, channel);
            return new Answer(channel, null, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Stopping: a reader closed under the probe (a Pulsar reader then answers "not subscribed") is the stop,
            // not a source failure that would pause the task.
            throw new OperationCanceledException("the probe of the newest messages was cancelled", ex, cancellationToken);
        }
    }

    private bool Reached(ISourceChannelReader reader, SourcePosition done, SourcePosition newest)
    {
        try
        {
            return reader.Reached(done, newest);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or FormatException)
        {
            logger.LogDebug(ex, "task {TaskId}: cannot compare {Done} with {Newest} on {Channel}", taskId, done.Describe(), newest.Describe(), reader.Channel);
            return false;
        }
    }

    /// <param name="Reader">The reader that answered (it orders the channel's positions); null when unknown.</param>
    /// <param name="Newest">The newest message then; null when the channel held none (or unknown).</param>
    private sealed record Answer(string Channel, ISourceChannelReader? Reader, SourcePosition? Newest);

    private sealed record Probe(DateTimeOffset At, IReadOnlyDictionary<string, Answer> Channels);
}
