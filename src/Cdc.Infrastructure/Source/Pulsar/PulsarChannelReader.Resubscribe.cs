using Cdc.Application.Replication.Source;
using Microsoft.Extensions.Logging;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// What a reader does when its subscription ends: a broker that closed the consumer or a lost connection is followed by
/// a new subscription after the last message read (backing off while the broker cannot be reached), and what cannot
/// be read again (a permanent error) fails the reader with the channel and position.
/// </summary>
internal sealed partial class PulsarChannelReader
{
    private async Task SuperviseAsync(Session session)
    {
        while (true)
        {
            Exception reason;
            try
            {
                reason = await session.Ended.Task.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            session.Connection.DetachConsumer(session.ConsumerId);
            await session.Connection.DisposeAsync().ConfigureAwait(false);
            if (Volatile.Read(ref _failed) != 0 || _stop.IsCancellationRequested) return;
            if (IsPermanent(reason))
            {
                Fail(new SourceChannelException(Channel, $"{reason.Message} (last message read: {ResumeText()})", reason, retryable: false));
                return;
            }

            _logger.LogWarning("pulsar reader of {Topic}: {Reason}; resubscribing after {Resume}", _topic, reason.Message, ResumeText());
            var next = await ResubscribeAsync().ConfigureAwait(false);
            if (next is null) return;
            session = next;
        }
    }

    private async Task<Session?> ResubscribeAsync()
    {
        var started = _time.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                MessagePoint? after;
                lock (_gate)
                {
                    _session = null;
                    after = _resumeAfter;
                }

                var session = await SubscribeAsync(after, _stop.Token).ConfigureAwait(false);
                lock (_gate) _session = session;
                GrantPermits();
                return session;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception e) when (IsPermanent(e))
            {
                Fail(new SourceChannelException(Channel, $"cannot subscribe again after {ResumeText()}: {e.Message}", e, retryable: false));
                return null;
            }
            catch (Exception e)
            {
                var waited = _time.GetElapsedTime(started);
                if (waited >= _options.ReconnectTimeout)
                {
                    Fail(new SourceChannelException(Channel,
                        $"no connection to the topic's broker for {waited.TotalSeconds:0} s (last message read: {ResumeText()}): {e.Message}", e));
                    return null;
                }

                _logger.LogWarning("pulsar reader of {Topic}: resubscribing failed ({Error}), next try in {Backoff} ms", _topic, e.Message,
                    (int)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, _time, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxReconnectBackoff.Ticks));
            }
        }
    }

    private static bool IsPermanent(Exception e) => e switch
    {
        PulsarProtocolException => true,
        PulsarBrokerException broker => !broker.IsRetryable,
        ArgumentException or FormatException => true,
        _ => false,
    };

    private string ResumeText()
    {
        lock (_gate) return _resumeAfter?.ToMessageId().ToString() ?? "none";
    }

    /// <summary>Ends the reading for good: the caller gets the messages already queued, then <paramref name="failure"/>.</summary>
    private void Fail(SourceChannelException failure)
    {
        if (Interlocked.Exchange(ref _failed, 1) != 0) return;
        _logger.LogError("pulsar reader of {Topic} stops: {Error}", _topic, failure.Message);
        _messages.Writer.TryComplete(failure);
        Session? session;
        lock (_gate) session = _session;
        if (session is not null) _ = session.Connection.DisposeAsync().AsTask();
    }
}
