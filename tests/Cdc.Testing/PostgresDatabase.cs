using Npgsql;

namespace Cdc.Testing;

/// <summary>
/// A fresh database on the PostgreSQL server started by scripts/test.sh (CDC_TEST_PG), dropped on dispose, so
/// every fixture starts from an empty event store.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    private readonly bool _owned = true;

    private PostgresDatabase(string adminConnectionString, string name, bool owned = true)
    {
        _owned = owned;
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<PostgresDatabase> CreateAsync()
    {
        var admin = TestEnvironment.Require("CDC_TEST_PG");
        var db = new PostgresDatabase(admin, $"cdc_test_{Guid.NewGuid():N}");
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"create database {db.Name}", conn);
        await cmd.ExecuteNonQueryAsync();
        return db;
    }

    /// <summary>The same database for a second server; disposing the borrowed one leaves the database in place.</summary>
    public PostgresDatabase Borrow() => new(_adminConnectionString, Name, owned: false);

    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        if (!_owned) return;
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(_adminConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"drop database if exists {Name} with (force)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
