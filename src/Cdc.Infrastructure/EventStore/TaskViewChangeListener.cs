using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Holds a PostgreSQL connection that LISTENs to <see cref="TaskViewChanges.Channel"/> and hands every notice to
/// <see cref="TaskViewChanges"/>: how this server learns of changes made through other servers (and by other
/// servers' task runs). While the connection is down, the task views are read from the database on every request;
/// when it is back, everything cached before is dropped, since notices sent meanwhile are lost.
/// </summary>
public sealed class TaskViewChangeListener(string connectionString, TaskViewChanges changes, TimeProvider clock, ILogger<TaskViewChangeListener> logger)
    : BackgroundService
{
    /// <summary>How often an idle listening connection is checked (Npgsql's keepalive query), so a dead one is noticed.</summary>
    private const int KeepaliveSeconds = 5;

    /// <summary>The listening connection's name in <c>pg_stat_activity</c>.</summary>
    public const string ApplicationName = "cdc task view changes";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { KeepAlive = KeepaliveSeconds, Pooling = false, ApplicationName = ApplicationName };
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += (_, notice) => changes.Received(notice.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {TaskViewChanges.Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                changes.Listen(true);
                if (failures > 0) logger.LogInformation("listening to task view changes again");
                failures = 0;
                while (true) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                changes.Listen(false);
                if (failures++ == 0) logger.LogWarning("not listening to task view changes (get and list read the database until it is back): {Error}", ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, failures)), clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        changes.Listen(false);
    }
}
