using System.Collections.Concurrent;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Source;

/// <summary>
/// Reads a task's source channels: opens a reader (retried while the MQ is unreachable), hands each message to the
/// channel's loop, and reopens the channel after the last message the loop completed when the reader fails, with the
/// run's back-off. A channel opened at the latest message is checkpointed at once where it starts, so neither a reopen
/// nor a server that dies before the first pack moves on to a later "latest". A reader failure that reading again cannot
/// mend (the channel holds something unreadable) halts the run.
/// </summary>
public sealed class ChannelReading(
    string taskId, ISourceChannels channels, RetryPolicy retry, CheckpointRecorder checkpoints, TaskRunMonitor monitor, TimeProvider clock, ILogger logger)
{
    private readonly ConcurrentDictionary<string, ISourceChannelReader> _readers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SourcePosition> _completed = new(StringComparer.Ordinal);

    /// <exception cref="ReplicationHalted">The channel cannot be read from there (its start is gone, say).</exception>
    public async Task<ISourceChannelReader> OpenAsync(string channel, SourceChannelStart start, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync($"open the source channel {channel}", token => channels.OpenReaderAsync(channel, start, token), ct);
        }
        catch (SourceChannelException ex) when (!ex.IsRetryable && !ct.IsCancellationRequested)
        {
            throw ReplicationHalted.Because(ex.Message, ex);
        }
    }

    /// <summary>
    /// Reads <paramref name="channel"/> until cancelled. <paramref name="handle"/> returns the position a message
    /// completed (or null while it is still buffered); <paramref name="reset"/> drops what was buffered before a reopen.
    /// </summary>
    public async Task ReadAsync(
        string channel, SourceChannelStart start, ISourceChannelReader? opened,
        Func<SourceMessage, CancellationToken, Task<SourcePosition?>> handle, Action reset, CancellationToken ct)
    {
        var backoff = retry.StartBackoff();
        if (start is SourceChannelStart.AfterPosition resumed) _completed[channel] = resumed.Position;
        while (true)
        {
            var reader = opened;
            opened = null;
            try
            {
                reader ??= await channels.OpenReaderAsync(channel, start, ct);
                _readers[channel] = reader;
                if (start is SourceChannelStart.LatestStart && reader.StartsAfter is { } origin)
                {
                    start = SourceChannelStart.After(origin);
                    _completed[channel] = origin;
                    checkpoints.Acknowledge(origin, HybridTimestamp.FromTime(clock.GetUtcNow()));
                    // Written before the first message is handled (the event store's hiccups retried a few times).
                    await retry.RunAsync($"checkpoint where {channel} starts", checkpoints.FlushAsync, ct, RetryOn.AnyFailureBounded);
                }

                await foreach (var message in reader.ReadAllAsync(ct))
                {
                    if (await handle(message, ct) is { } done)
                    {
                        reader.Completed(done);
                        start = SourceChannelStart.After(done);
                        _completed[channel] = done;
                        if (backoff.AfterFailure) monitor.Succeeded($"read {channel}");
                        backoff.Reset();
                    }

                    monitor.Buffer(channel, reader.BufferedBytes, reader.BufferedMessages);
                }

                ct.ThrowIfCancellationRequested();
                throw new SourceChannelException(channel, "the reader ended");
            }
            catch (SourceChannelException ex) when (!ct.IsCancellationRequested && !ex.IsRetryable)
            {
                throw ReplicationHalted.Because(ex.Message, ex);
            }
            catch (SourceChannelException ex) when (!ct.IsCancellationRequested)
            {
                var delay = backoff.Next();
                logger.LogWarning(ex, "task {TaskId}: reading {Channel} failed, reopening in {Delay}", taskId, channel, delay);
                monitor.Failed($"read the source channel {channel}", ex, ongoing: $"read {channel}");
                reset();
                await Task.Delay(delay, clock, ct);
            }
            finally
            {
                _readers.TryRemove(KeyValuePair.Create(channel, reader!));
                if (reader is not null) await reader.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The last message each channel completed (applied on the target and noted for its checkpoint, or not to be
    /// replicated), or where it started when it has completed none; a channel missing has neither yet (a reader opened
    /// at the earliest message or at a time, before its first completed message).
    /// </summary>
    public IReadOnlyDictionary<string, SourcePosition> Completed() => new Dictionary<string, SourcePosition>(_completed, StringComparer.Ordinal);

    /// <summary>The open reader of a channel; null while it is being (re)opened or when it is not read.</summary>
    public ISourceChannelReader? ReaderOf(string channel) => _readers.GetValueOrDefault(channel);

    /// <summary>Tells the monitor what waits in each open reader.</summary>
    public void ReportBuffers()
    {
        foreach (var (channel, reader) in _readers) monitor.Buffer(channel, reader.BufferedBytes, reader.BufferedMessages);
    }
}
