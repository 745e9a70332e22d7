using Marten.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Sends the notices of committed task view changes (<see cref="TaskViewChangeNotifier"/>) to
/// <see cref="TaskViewChanges.Channel"/>, after their commits and apart from them: whatever is waiting goes out in one
/// short transaction of its own (one <c>pg_notify</c> per notice), on a connection of the store's pool, while the
/// next commits queue up behind it. The appends never wait for it.
/// A notice that cannot be sent is tried again a second later, up to <see cref="Attempts"/> times; one lost (also when
/// the server stops or dies between a commit and its notice) leaves another server's cached view of that task at most
/// <see cref="CachedTaskViews.MaxAge"/> old.
/// </summary>
public sealed class TaskViewChangeNotices(ILogger<TaskViewChangeNotices>? logger = null)
{
    /// <summary>How many times a batch is tried before its notices are given up.</summary>
    public const int Attempts = 10;

    /// <summary>At most this many notices wait; beyond that the oldest are given up.</summary>
    public const int MaxWaiting = 100_000;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;
    private readonly object _gate = new();
    private List<string> _waiting = [];
    private IMartenDatabase? _database;
    private bool _sending;

    /// <summary>Notices sent so far (each may have stood for several changes of one task).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    private long _sent;

    /// <summary>Queues the notices of one commit; a sender is started if none is running.</summary>
    public void Send(IMartenDatabase database, IEnumerable<string> notices)
    {
        lock (_gate)
        {
            _database = database;
            _waiting.AddRange(notices);
            DropOldestBeyondBound();
            if (_sending) return;
            _sending = true;
        }

        _ = Task.Run(SendWaitingAsync);
    }

    /// <summary>Keeps at most <see cref="MaxWaiting"/> notices waiting, the newest (called under the gate).</summary>
    private void DropOldestBeyondBound()
    {
        if (_waiting.Count > MaxWaiting) _waiting.RemoveRange(0, _waiting.Count - MaxWaiting);
    }

    private async Task SendWaitingAsync()
    {
        var failures = 0;
        while (true)
        {
            List<string> batch;
            IMartenDatabase database;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _sending = false;
                    return;
                }

                (batch, _waiting, database) = (_waiting, [], _database!);
            }

            try
            {
                await using var connection = database.CreateConnection();
                await connection.OpenAsync();
                // PostgreSQL delivers identical notices of one transaction once: the same task twice is one change notice.
                await using var command = new NpgsqlCommand("select pg_notify($1, notice) from unnest($2::text[]) as notice", connection)
                {
                    Parameters = { new() { Value = TaskViewChanges.Channel }, new() { Value = batch.ToArray() } },
                };
                await command.ExecuteNonQueryAsync();
                Interlocked.Add(ref _sent, batch.Count);
                if (failures > 0) _logger.LogInformation("task view change notices are sent again");
                failures = 0;
            }
            catch (ObjectDisposedException)
            {
                // The store is gone (the server stops): nobody is left to send them.
                lock (_gate)
                {
                    _waiting.Clear();
                    _sending = false;
                }

                return;
            }
            catch (Exception e)
            {
                failures++;
                var givenUp = failures >= Attempts;
                if (failures == 1 || givenUp)
                {
                    _logger.LogWarning("could not send {Count} task view change notices{Outcome}: {Error}", batch.Count,
                        givenUp ? "; given up (other servers re-read those tasks within seconds)" : "; trying again", e.Message);
                }

                if (givenUp)
                {
                    failures = 0;
                }
                else
                {
                    lock (_gate)
                    {
                        _waiting.InsertRange(0, batch);
                        DropOldestBeyondBound();
                    }
                }

                await Task.Delay(RetryDelay);
            }
        }
    }
}
