using Microsoft.Extensions.DependencyInjection.Extensions;
using Cdc.Infrastructure.Replication;
using Cdc.Application;
using Cdc.Application.EventStore;
using Cdc.Application.Secrets;
using Cdc.Application.Tasks;
using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.EventStore;
using Cdc.Infrastructure.EventStore.Projections;
using Cdc.Infrastructure.Secrets;
using Npgsql;

namespace Cdc.Api.Composition;

public static class InfrastructureRegistration
{
    public static IServiceCollection AddCdcInfrastructure(this IServiceCollection services, CdcConfig config)
    {
        services.AddSingleton(config);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new CdcLimits(config.MaxTaskNum, config.MaxNameLength, config.Source.ReplicateChan));
        services.AddSingleton(new EventStoreOptions(config.MetaStore.Schema, config.MetaStore.RootPath));
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(config.MetaStore.ConnectionString).Build());
        services.AddSingleton<EventTypes>();
        services.AddSingleton<IInlineProjection, TaskViewProjection>();
        services.AddSingleton<IInlineProjection, ChannelPositionProjection>();
        services.AddSingleton(sp => new ProjectionRunner(sp.GetServices<IInlineProjection>().ToList(), sp.GetRequiredService<EventStoreOptions>()));
        services.AddSingleton<PostgresEventStore>();
        services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<PostgresEventStore>());
        services.AddSingleton<IEventFeed, PostgresEventFeed>();
        services.AddSingleton<ISubscriptionCheckpoints, PostgresSubscriptionCheckpoints>();
        services.AddSingleton<ITaskViews, PostgresTaskViews>();
        services.AddSingleton<ProjectionRebuilder>();
        services.AddSingleton<ISecretProtector>(_ =>
            new AesGcmSecretProtector(SecretKeySource.Resolve(config.MetaStore.SecretKey, config.MetaStore.SecretKeyFile)));
        services.AddSingleton<Cdc.Application.Replication.Ports.ITaskLeases, PostgresTaskLeases>();
        services.AddSingleton<Cdc.Application.Replication.Ports.ITaskRuntimeReports, PostgresTaskRuntimeReports>();
        services.TryAddSingleton<Cdc.Application.Replication.Ports.ISourcePositionCodec, Cdc.Infrastructure.Milvus.MsgPositionCodec>();
        // The replication engine reads a Kafka source; with Pulsar (which wins when both are set) there is none yet,
        // and the worker says so in the log instead of replicating.
        if (config.Source.Pulsar.Address is null && !string.IsNullOrEmpty(config.Source.Kafka.Address))
            services.AddTaskReplication(config.Source);
        services.AddHostedService<EventStoreStartup>();
        services.AddSingleton<Hosting.ReplicationWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<Hosting.ReplicationWorker>());
        return services;
    }
}
