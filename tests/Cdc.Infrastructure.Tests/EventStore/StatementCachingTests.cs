using Cdc.Infrastructure.EventStore;
using Npgsql;

namespace Cdc.Infrastructure.Tests.EventStore;

public sealed class StatementCachingTests
{
    [Fact]
    public void A_connection_string_without_preparation_settings_gets_them_and_keeps_the_rest()
    {
        var tuned = new NpgsqlConnectionStringBuilder(
            StatementCaching.WithDefaults("Host=db.example;Port=5433;Username=cdc;Password=s3cret;Database=meta;Maximum Pool Size=7"));

        Assert.Equal(StatementCaching.MaxPrepared, tuned.MaxAutoPrepare);
        Assert.Equal(StatementCaching.MinUsages, tuned.AutoPrepareMinUsages);
        Assert.Equal(("db.example", 5433, "cdc", "s3cret", "meta", 7),
            (tuned.Host, tuned.Port, tuned.Username, tuned.Password, tuned.Database, tuned.MaxPoolSize));
    }

    [Theory]
    [InlineData("Host=h;Max Auto Prepare=0", 0, 5)]
    [InlineData("Host=h;maxautoprepare=10", 10, 5)]
    [InlineData("Host=h;Auto Prepare Min Usages=3", 0, 3)]
    public void The_operators_own_preparation_settings_are_kept(string connectionString, int maxAutoPrepare, int minUsages)
    {
        var tuned = StatementCaching.WithDefaults(connectionString);

        Assert.Equal(connectionString, tuned);
        var parsed = new NpgsqlConnectionStringBuilder(tuned);
        Assert.Equal((maxAutoPrepare, minUsages), (parsed.MaxAutoPrepare, parsed.AutoPrepareMinUsages));
    }
}
