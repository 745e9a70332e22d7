using Cdc.Infrastructure.Coordination;
using Marten;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Readies the event store before the server takes requests, under a session advisory lock (several servers may start
/// at once): an event store written by the previous version of this server is moved aside and migrated
/// (<see cref="LegacyEventStoreMigration"/>), Marten's tables are created or updated, and the task lease table is
/// created.
/// </summary>
public static class EventStoreStartup
{
    public static async Task EnsureAsync(IDocumentStore store, string connectionString, EventStoreOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(conn, "select pg_advisory_lock($1)", cancellationToken, options.SchemaLockKey);
        try
        {
            var migration = new LegacyEventStoreMigration(conn, store, options, logger);
            await migration.MoveAsideAsync(cancellationToken);
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            await ExecuteAsync(conn, PostgresTaskLeases.CreateTableSql(options.Schema), cancellationToken);
            await migration.CopyAsync(cancellationToken);
        }
        finally
        {
            await ExecuteAsync(conn, "select pg_advisory_unlock($1)", CancellationToken.None, options.SchemaLockKey);
        }
    }

    /// <summary>Quotes a schema name given in the configuration (which is validated to be an identifier).</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    internal static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.AddWithValue(a);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
