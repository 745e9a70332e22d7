using Cdc.Application.Secrets;
using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.EventStore;
using Marten;
using Npgsql;

namespace Cdc.Api.Composition;

/// <summary>
/// Before the server takes requests: readies the event store (<see cref="EventStoreStartup"/>: a previous version's
/// store migrated, Marten's tables created), and loads the secret key so that a bad key stops start-up instead of the
/// first create. Errors name the database without its password.
/// </summary>
public sealed class EventStoreStartupService(
    IDocumentStore store,
    EventStoreOptions options,
    CdcConfig config,
    IServiceProvider services,
    ILogger<EventStoreStartupService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var where = Describe(config.MetaStore.ConnectionString);
        try
        {
            await EventStoreStartup.EnsureAsync(store, config.MetaStore.ConnectionString, options, logger, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException
                                       || ex.InnerException is NpgsqlException or System.Net.Sockets.SocketException)
        {
            throw new StartupCheckFailed($"cannot open the event store at {where}: {(ex.InnerException ?? ex).Message}", ex);
        }
        _ = services.GetRequiredService<ISecretProtector>();
        logger.LogInformation("event store ready at {Where}, schema {Schema}, tenant {Tenant}", where, options.Schema, options.Tenant);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>host:port/database of a connection string, never its password.</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{b.Host}:{b.Port}/{b.Database}";
    }
}

/// <summary>A check the server runs before taking requests failed; the message says what and where.</summary>
public sealed class StartupCheckFailed(string message, Exception inner) : Exception(message, inner);
