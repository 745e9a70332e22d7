using Cdc.Api.Hosting;
using Cdc.Application;
using Cdc.Application.EventStore;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Target;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Secrets;
using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Cdc.Infrastructure.Composition;
using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.Coordination;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.EventStore;
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
        // Both pools (Marten's and Wolverine's, and the leases') keep their repeated statements prepared.
        var connectionString = StatementCaching.WithDefaults(config.MetaStore.ConnectionString);
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());

        // Runs first: the event store is ready (migrated, tables created) before Wolverine and the API start.
        services.AddHostedService<EventStoreStartupService>();
        services.AddCdcEventStore(connectionString, storeOptions)
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
        services.AddSingleton<MartenTaskViews>();
        services.AddSingleton<ITaskViews>(sp => sp.GetRequiredService<MartenTaskViews>());
        services.AddSingleton<ITaskLifecycles>(sp => sp.GetRequiredService<MartenTaskViews>());
        services.AddSingleton<TaskStreams>();
        services.AddSingleton<ICachedTaskViews, CachedTaskViews>();
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<TaskViewChangeListener>(sp, config.MetaStore.ConnectionString));
        services.AddSingleton<ITaskLeases, PostgresTaskLeases>();
        services.AddSingleton<ITaskRuntimeReports, MartenTaskRuntimeReports>();
        services.AddSingleton<ISecretProtector>(_ =>
            new AesGcmSecretProtector(SecretKeySource.Resolve(config.MetaStore.SecretKey, config.MetaStore.SecretKeyFile)));
        services.TryAddSingleton<ISourcePositionCodec, Cdc.Infrastructure.Decoding.MsgPositionCodec>();
        services.AddSingleton<ICertificateFiles>(new Cdc.Infrastructure.Security.CertificateFolder(config.CertificatesDir));
        services.AddTaskReplication(config.Source);

        services.AddSingleton(sp => new TaskStartPacer(config.TaskStartsPerSecond, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ReplicationHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicationHost>());
        services.AddSingleton<IAgentFamily, TaskAgentFamily>();
        services.AddSingleton<AssignmentEvaluation>();
        return services;
    }
}
