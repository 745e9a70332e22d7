using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Target;
using Cdc.Testing.FakeMilvus;

namespace Cdc.Infrastructure.Tests.Bugs;

/// <summary>
/// Regression: describing a collection in a database the target does not have threw "database not found" (800),
/// so creating the first collection of a new source database failed instead of creating the database first.
/// </summary>
public sealed class DescribeCollectionInMissingDatabaseTests
{
    [Fact]
    public async Task A_collection_in_a_missing_database_is_reported_as_absent()
    {
        await using var server = await FakeMilvusServer.StartAsync();
        await using var target = new MilvusTargetFactory().Create(new MilvusConnection(server.Uri.ToString()));
        Assert.Null(await target.DescribeCollectionAsync("no_such_db", "orders", CancellationToken.None));
    }
}
