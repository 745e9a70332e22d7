using Cdc.Api.Hosting;
using Cdc.Application;
using Cdc.Application.EventStore;
using Cdc.Application.Replication.Ports;
using Cdc.Application.Secrets;
using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.Coordination;
using Cdc.Infrastructure.EventStore;
using Cdc.Infrastructure.Replication;
using Cdc.Infrastructure.Secrets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Wolverine.Marten;
using Wolverine.Runtime.Agents;

namespace Cdc.Api.Composition;

public static class InfrastructureRegistration
{
    public static IServiceCollection AddCdcInfrastructure(this IServiceCollection services, CdcConfig config)
    {
        services.AddSingleton(config);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new CdcLimits(config.MaxTaskNum, config.MaxNameLength, config.Source.ReplicateChan));
        var storeOptions = new EventStoreOptions(config.MetaStore.Schema, config.MetaStore.RootPath);
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(config.MetaStore.ConnectionString).Build());

        // Runs first: the event store is ready (migrated, tables created) before Wolverine and the API start.
        services.AddHostedService<EventStoreStartupService>();
        services.AddCdcEventStore(config.MetaStore.ConnectionString, storeOptions)
            .IntegrateWithWolverine(w =>
            {
                w.MessageStorageSchemaName = storeOptions.WolverineSchema;
                w.UseWolverineManagedEventSubscriptionDistribution = true;
            })
            // Task events reach the servers' task agents in order (TaskEventsHandler). The name is the tenant's: each
            // tenant's cluster keeps its own position in the shared event table.
            .PublishEventsToWolverine($"cdc_task_events_{storeOptions.WolverineSchema}", relay =>
            {
                relay.PublishEvent<TaskCreated>();
                relay.PublishEvent<TaskPaused>();
                relay.PublishEvent<TaskResumed>();
                relay.PublishEvent<TaskDeleted>();
                relay.Options.SubscribeFromPresent();
            });
        services.AddSingleton<IEventStore, MartenEventStore>();
        services.AddSingleton<IEventFeed, MartenEventFeed>();
        services.AddSingleton<ITaskViews, MartenTaskViews>();
        services.AddSingleton<ITaskLeases, PostgresTaskLeases>();
        services.AddSingleton<ITaskRuntimeReports, MartenTaskRuntimeReports>();
        services.AddSingleton<ISecretProtector>(_ =>
            new AesGcmSecretProtector(SecretKeySource.Resolve(config.MetaStore.SecretKey, config.MetaStore.SecretKeyFile)));
        services.TryAddSingleton<ISourcePositionCodec, Cdc.Infrastructure.Milvus.MsgPositionCodec>();
        services.AddSingleton<ICertificateFiles>(new Cdc.Infrastructure.Security.CertificateFolder(config.CertificatesDir));
        // The replication engine reads a Kafka source; with Pulsar (which wins when both are set) there is none yet,
        // and the host says so in the log instead of replicating.
        if (config.Source.Pulsar.Address is null && !string.IsNullOrEmpty(config.Source.Kafka.Address))
            services.AddTaskReplication(config.Source);

        services.AddSingleton<ReplicationHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicationHost>());
        services.AddSingleton<IAgentFamily, TaskAgentFamily>();
        return services;
    }
}
