using Cdc.Application.Tasks;
using Cdc.Infrastructure.Coordination;
using Cdc.Infrastructure.EventStore;
using Marten;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cdc.Testing;

/// <summary>The event store's parts (Marten) on a fresh database, wired as the server wires them.</summary>
public sealed class EventStoreHarness : IAsyncDisposable
{
    private EventStoreHarness(PostgresDatabase database, NpgsqlDataSource dataSource, DocumentStore documents, EventStoreOptions options)
    {
        Database = database;
        DataSource = dataSource;
        Documents = documents;
        Options = options;
        Store = new MartenEventStore(documents, options);
        Feed = new MartenEventFeed(documents, options, TimeProvider.System);
        Views = new MartenTaskViews(documents, options);
        Streams = new TaskStreams(Store, Views);
        Leases = new PostgresTaskLeases(dataSource, options);
        Reports = new MartenTaskRuntimeReports(documents, options);
    }

    public PostgresDatabase Database { get; }
    public NpgsqlDataSource DataSource { get; }
    public DocumentStore Documents { get; }
    public EventStoreOptions Options { get; }
    public MartenEventStore Store { get; }
    public MartenEventFeed Feed { get; }
    public MartenTaskViews Views { get; }
    public TaskStreams Streams { get; }
    public PostgresTaskLeases Leases { get; }
    public MartenTaskRuntimeReports Reports { get; }

    /// <summary>A fresh database with the event store readied as the server readies it at start.</summary>
    public static async Task<EventStoreHarness> StartAsync(string tenant = "cdc", PostgresDatabase? database = null)
    {
        database ??= await PostgresDatabase.CreateAsync();
        var options = new EventStoreOptions("cdc", tenant);
        var documents = OpenStore(database.ConnectionString, options);
        await EventStoreStartup.EnsureAsync(documents, database.ConnectionString, options, NullLogger.Instance, CancellationToken.None);
        return new EventStoreHarness(database, database.CreateDataSource(), documents, options);
    }

    /// <summary>The same database seen by another tenant (another rootPath).</summary>
    public EventStoreHarness ForTenant(string tenant)
    {
        var options = Options with { Tenant = tenant };
        return new EventStoreHarness(Database.Borrow(), DataSource, OpenStore(Database.ConnectionString, options), options);
    }

    /// <param name="changes">the store's process record of task view changes, as a server keeps one (null: none).</param>
    public static DocumentStore OpenStore(string connectionString, EventStoreOptions options, TaskViewChanges? changes = null) =>
        DocumentStore.For(o => MartenStoreSetup.Configure(o, connectionString, options, changes));

    public async ValueTask DisposeAsync()
    {
        Documents.Dispose();
        await DataSource.DisposeAsync();
        await Database.DisposeAsync();
    }
}
