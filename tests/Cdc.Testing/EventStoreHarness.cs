using Cdc.Infrastructure.EventStore;
using Cdc.Infrastructure.EventStore.Projections;
using Npgsql;

namespace Cdc.Testing;

/// <summary>The event store's parts on a fresh database, wired as the server wires them.</summary>
public sealed class EventStoreHarness : IAsyncDisposable
{
    private EventStoreHarness(PostgresDatabase database, NpgsqlDataSource dataSource, EventStoreOptions options)
    {
        Database = database;
        DataSource = dataSource;
        Options = options;
        Projections = new ProjectionRunner([new TaskViewProjection(options), new ChannelPositionProjection(options)], options);
        Store = new PostgresEventStore(dataSource, options, Types, Projections, TimeProvider.System);
        Feed = new PostgresEventFeed(dataSource, options, Types);
        Views = new PostgresTaskViews(dataSource, options);
        Rebuilder = new ProjectionRebuilder(dataSource, options, Types, Projections);
        Checkpoints = new PostgresSubscriptionCheckpoints(dataSource, options, TimeProvider.System);
    }

    public PostgresDatabase Database { get; }
    public NpgsqlDataSource DataSource { get; }
    public EventStoreOptions Options { get; }
    public EventTypes Types { get; } = new();
    public ProjectionRunner Projections { get; }
    public PostgresEventStore Store { get; }
    public PostgresEventFeed Feed { get; }
    public PostgresTaskViews Views { get; }
    public ProjectionRebuilder Rebuilder { get; }
    public PostgresSubscriptionCheckpoints Checkpoints { get; }

    public static async Task<EventStoreHarness> StartAsync(string tenant = "cdc")
    {
        var database = await PostgresDatabase.CreateAsync();
        var dataSource = database.CreateDataSource();
        var options = new EventStoreOptions("cdc", tenant);
        await EventStoreSchema.EnsureAsync(dataSource, options, CancellationToken.None);
        return new EventStoreHarness(database, dataSource, options);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await Database.DisposeAsync();
    }
}
