using System.Data.Common;
using Npgsql;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Npgsql's automatic preparation for the event store's pooled connections, unless the operator's connection string
/// says otherwise. Marten and Wolverine send the same few statements over and over (a task's view, its stream's
/// version, the event insert, the lease, the runtime report); prepared once per connection, PostgreSQL no longer parses
/// and plans each of them again, and Npgsql's reset of a pooled connection keeps them (it leaves out <c>DISCARD ALL</c>).
/// A connection string that names <c>Max Auto Prepare</c> (0 switches it off, e.g. behind a PgBouncer in transaction
/// mode older than 1.21) or <c>Auto Prepare Min Usages</c> is kept as it is.
/// </summary>
public static class StatementCaching
{
    /// <summary>Statements kept prepared per connection (Npgsql's least recently used are replaced).</summary>
    public const int MaxPrepared = 64;

    /// <summary>A statement is prepared on its second use, so one-off queries (schema checks, audits) are not.</summary>
    public const int MinUsages = 2;

    public static string WithDefaults(string connectionString)
    {
        // The generic builder holds only the keys the string names (Npgsql's lists every key it knows).
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (OperatorKeys.Any(given.ContainsKey)) return connectionString;
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxAutoPrepare = MaxPrepared,
            AutoPrepareMinUsages = MinUsages,
        };
        return builder.ConnectionString;
    }

    private static readonly string[] OperatorKeys =
        ["Max Auto Prepare", "MaxAutoPrepare", "Auto Prepare Min Usages", "AutoPrepareMinUsages"];
}
