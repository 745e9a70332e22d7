using Cdc.Application.EventStore;
using Cdc.Application.Replication.Running;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Secrets;
using Cdc.Infrastructure.Composition;
using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.Secrets;
using Cdc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cdc.Infrastructure.Tests.Composition;

public sealed class TaskReplicationRegistrationTests
{
    [Fact]
    public async Task The_engine_resolves_with_the_adapters_of_the_configured_source()
    {
        var config = CdcConfigLoader.Load(RepositoryRoot.File_("configs/cdc.yaml"));
        await using var store = await EventStoreHarness.StartAsync();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(TimeProvider.System)
            .AddSingleton<IEventStore>(store.Store)
            .AddSingleton<ISecretProtector>(new AesGcmSecretProtector(new byte[32]))
            .AddTaskReplication(config.Source);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        Assert.IsType<TaskReplication>(provider.GetRequiredService<ITaskReplication>());
        Assert.Equal(config.Source.ReplicateChan, provider.GetRequiredService<TaskReplicationOptions>().ReplicateChannel);
    }
}
