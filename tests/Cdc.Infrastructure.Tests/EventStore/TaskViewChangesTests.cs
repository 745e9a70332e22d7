using Cdc.Testing;
using Npgsql;
using Cdc.Infrastructure.EventStore;

namespace Cdc.Infrastructure.Tests.EventStore;

public sealed class TaskViewChangesTests
{
    [Fact]
    public void Counters_of_at_most_the_bound_of_tasks_are_kept_and_dropping_them_invalidates_every_cached_view()
    {
        var changes = new TaskViewChanges(new EventStoreOptions("cdc", "cdc"));
        changes.Changed("t0", taskStream: true);
        var epoch = changes.Epoch;
        for (var i = 1; i < TaskViewChanges.MaxTrackedTasks; i++) changes.Changed($"t{i}", taskStream: false);
        Assert.Equal((1L, epoch), (changes.StampOf("t0"), changes.Epoch));

        changes.Changed("one more", taskStream: false);
        Assert.Equal(0L, changes.StampOf("t0"));
        Assert.Equal(1L, changes.StampOf("one more"));
        Assert.True(changes.Epoch > epoch);
    }

    [Fact]
    public void A_notice_counts_only_for_its_own_schema_and_tenant()
    {
        var changes = new TaskViewChanges(new EventStoreOptions("cdc", "by-dev"));
        changes.Received(TaskViewChanges.Notice("cdc", "other-root", "t1", taskStream: true));
        changes.Received(TaskViewChanges.Notice("other_schema", "by-dev", "t1", taskStream: true));
        changes.Received("not json");
        Assert.Equal((0L, 0L), (changes.StampOf("t1"), changes.Membership));

        changes.Received(TaskViewChanges.Notice("cdc", "by-dev", "t1", taskStream: true));
        Assert.Equal((1L, 1L), (changes.StampOf("t1"), changes.Membership));
        changes.Received(TaskViewChanges.Notice("cdc", "by-dev", "t1", taskStream: false));
        Assert.Equal((2L, 1L), (changes.StampOf("t1"), changes.Membership));
    }
}

public sealed class TaskViewChangeNoticesTests
{
    [Fact]
    public async Task Notices_that_cannot_be_sent_are_sent_once_the_database_takes_connections_again()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        using var store = EventStoreHarness.OpenStore(db.ConnectionString, new EventStoreOptions("cdc", "cdc"));
        var admin = TestEnvironment.Require("CDC_TEST_PG");
        await using var listener = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString);
        var received = new List<string>();
        listener.Notification += (_, n) => { lock (received) received.Add(n.Payload); };
        await listener.OpenAsync();
        await using (var listen = new NpgsqlCommand($"LISTEN {TaskViewChanges.Channel}", listener)) await listen.ExecuteNonQueryAsync();

        // The database stops taking new connections (the listener's stays): the notices wait.
        await AdminAsync(admin, $"alter database {db.Name} allow_connections false");
        NpgsqlConnection.ClearAllPools();
        var notices = new TaskViewChangeNotices();
        notices.Send(store.Options.Tenancy.Default.Database, ["first", "second"]);
        await listener.WaitAsync(TimeSpan.FromMilliseconds(1500));
        Assert.Empty(received);
        Assert.Equal(0, notices.Sent);

        await AdminAsync(admin, $"alter database {db.Name} allow_connections true");
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            while (received.Count < 2) await listener.WaitAsync(timeout.Token);
        // (The sender counts them once its statement returned, which may be after the listener got them.)
        Assert.Equal(["first", "second"], received);
    }

    private static async Task AdminAsync(string admin, string sql)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
