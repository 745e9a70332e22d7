using Cdc.Testing;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Cdc.Api.Tests;

/// <summary>The server's event store connections keep repeated statements prepared (PostgreSQL parses them once).</summary>
public sealed class StatementCachingTests(SharedApp shared) : IClassFixture<SharedApp>
{
    [Fact]
    public async Task A_statement_sent_again_on_a_connection_of_the_event_store_is_prepared()
    {
        var store = shared.App.Services.GetRequiredService<IDocumentStore>();
        await AssertPreparesAsync(store.Options.Tenancy.Default.Database.CreateConnection());
    }

    [Fact]
    public async Task A_statement_sent_again_on_a_connection_of_the_lease_pool_is_prepared()
    {
        var dataSource = shared.App.Services.GetRequiredService<NpgsqlDataSource>();
        await AssertPreparesAsync(dataSource.CreateConnection());
    }

    private static async Task AssertPreparesAsync(NpgsqlConnection connection)
    {
        await using var _ = connection;
        await connection.OpenAsync();
        const string Probe = "select $1::int + 1 as statement_caching_probe";
        for (var i = 0; i < 3; i++)
        {
            await using var command = new NpgsqlCommand(Probe, connection) { Parameters = { new() { Value = i } } };
            Assert.Equal(i + 1, await command.ExecuteScalarAsync());
        }

        await using var prepared = new NpgsqlCommand(
            "select count(*) from pg_prepared_statements where statement like '%statement_caching_probe%'", connection);
        Assert.Equal(1L, await prepared.ExecuteScalarAsync());
    }
}
