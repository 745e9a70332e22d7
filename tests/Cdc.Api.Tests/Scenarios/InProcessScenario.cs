using Cdc.Api.Hosting;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.SourceSimulator;
using Microsoft.Extensions.DependencyInjection;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>The scenarios run one after another: each drives a whole server, and timing matters on a small machine.</summary>
[CollectionDefinition(Name)]
public sealed class ScenarioCollection
{
    public const string Name = "scenarios";
}

/// <summary>
/// A scenario with the real server in memory (<see cref="CdcApp"/>, its own database) reading a
/// <see cref="ScenarioSource"/> and writing into a <see cref="FakeMilvusServer"/>, driven through POST /cdc. The
/// server and the source start with the task (<see cref="StartTaskAsync(string[])"/>).
/// </summary>
public abstract class InProcessScenario : IAsyncLifetime
{
    private readonly string _name;

    protected InProcessScenario(string name) => _name = name;

    internal ScenarioSource Source { get; private set; } = null!;

    protected FakeMilvusServer Target { get; private set; } = null!;

    protected CdcApp App { get; private set; } = null!;

    internal CdcCall Cdc => (type, data) => App.PostAsync(type, data);

    /// <summary>Config keys the server starts with besides the source's (set before the task starts).</summary>
    protected Dictionary<string, string> ServerSettings { get; } = [];

    /// <summary>A time limit for the whole scenario, so a hang fails the test instead of the run.</summary>
    protected CancellationToken Deadline { get; } = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;

    public async Task InitializeAsync() => Target = await FakeMilvusServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (App is not null) await App.DisposeAsync();
        await Target.DisposeAsync();
        if (Source is not null) await Source.DisposeAsync();
    }

    /// <summary>
    /// Starts the server on a new source (2.4 messages), creates the collections on the source, then a task for them,
    /// and waits until it reads every channel.
    /// </summary>
    protected Task<string> StartTaskAsync(params string[] collections) => StartTaskAsync(SourceMilvusVersion.V2_4, collections);

    /// <summary>As <see cref="StartTaskAsync(string[])"/>, with a source writing the messages of <paramref name="version"/>.</summary>
    protected Task<string> StartTaskAsync(SourceMilvusVersion version, params string[] collections) =>
        StartTaskAsync(version, SourceQueueKind.Kafka, collections);

    /// <summary>As <see cref="StartTaskAsync(string[])"/>, with a source writing the messages of <paramref name="version"/> into <paramref name="queue"/>.</summary>
    protected async Task<string> StartTaskAsync(SourceMilvusVersion version, SourceQueueKind queue, params string[] collections)
    {
        await StartServerAsync(version, queue, collections);
        var taskId = await Scenario.CreateTaskAsync(Cdc, Target);
        await Scenario.WaitUntilReadingAsync(Target, Source, collections, Deadline);
        return taskId;
    }

    /// <summary>Starts the server on a new source and creates the collections on the source; no task yet.</summary>
    protected Task StartServerAsync(SourceMilvusVersion version, params string[] collections) =>
        StartServerAsync(version, SourceQueueKind.Kafka, collections);

    /// <summary>As <see cref="StartServerAsync(SourceMilvusVersion, string[])"/>, the source writing into <paramref name="queue"/>.</summary>
    protected async Task StartServerAsync(SourceMilvusVersion version, SourceQueueKind queue, params string[] collections)
    {
        Source = new ScenarioSource(_name, version, queue);
        var settings = new Dictionary<string, string>(Source.ServerSettings);
        foreach (var (key, value) in ServerSettings) settings[key] = value;
        App = await CdcApp.StartAsync(settings);
        foreach (var collection in collections) await Source.CreateCollectionAsync(collection, Deadline);
    }

    /// <summary>
    /// Whether this server runs the task's replication now. Pause and delete are recorded at once but the replication
    /// stops when the worker reconciles, a moment later; scenarios wait for that before they write.
    /// </summary>
    protected bool Replicates(string taskId) =>
        App.Services.GetRequiredService<ReplicationHost>().RunningTasks.Contains(taskId);
}
