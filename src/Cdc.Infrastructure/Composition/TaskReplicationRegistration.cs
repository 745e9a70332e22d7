using Cdc.Application.Replication.Decoding;
using Cdc.Application.Replication.Running;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Source.Etcd;
using Cdc.Infrastructure.Source.Kafka;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Infrastructure.Target;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cdc.Infrastructure.Composition;

/// <summary>
/// Wires <see cref="TaskReplication"/> as the server's <see cref="ITaskReplication"/> with the adapters of the
/// configured source (etcd metadata, Pulsar or Kafka channels) and target (Milvus gRPC). Expects TimeProvider, logging,
/// <c>IEventStore</c> and <c>ISecretProtector</c> to be registered already (the server's infrastructure does), and
/// <c>ICertificateFiles</c> for targets dialled with TLS files (without it every dial_config file is refused).
/// </summary>
public static class TaskReplicationRegistration
{
    public static IServiceCollection AddTaskReplication(this IServiceCollection services, SourceConfig source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Pulsar.Address is null && string.IsNullOrEmpty(source.Kafka.Address))
            throw new NotSupportedException("the replication needs the source's message queue: sourceConfig.pulsar.address or sourceConfig.kafka.address");

        services.AddSingleton(sp => new EtcdClient(new EtcdOptions
        {
            Address = source.Etcd.Address,
            RootPath = source.Etcd.RootPath,
            MetaSubPath = source.Etcd.MetaSubPath,
            EnableAuth = source.Etcd.EnableAuth,
            Username = source.Etcd.Username,
            Password = source.Etcd.Password,
            EnableTls = source.Etcd.EnableTls,
            TlsCertPath = source.Etcd.TlsCertPath,
            TlsKeyPath = source.Etcd.TlsKeyPath,
            TlsCaCertPath = source.Etcd.TlsCaCertPath,
            TlsMinVersion = source.Etcd.TlsMinVersion,
        }, sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<EtcdClient>>()));
        services.AddSingleton<ISourceMetadata>(sp => new EtcdSourceMetadata(
            sp.GetRequiredService<EtcdClient>(),
            new SourceMetaLayout(source.Etcd.RootPath, source.Etcd.MetaSubPath),
            sp.GetService<ILogger<EtcdSourceMetadata>>()));
        // The source's message queue: Pulsar when its address is set (it wins when both are), else Kafka.
        if (source.Pulsar.Address is not null)
            services.AddSingleton<ISourceChannels>(sp => new PulsarSourceChannels(PulsarSourceOptions.FromConfig(source),
                sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<PulsarSourceChannels>>()));
        else
            services.AddSingleton<ISourceChannels>(sp => new KafkaSourceChannels(new KafkaSourceOptions
            {
                Address = source.Kafka.Address!,
                SaslUsername = source.Kafka.SaslUsername,
                SaslPassword = source.Kafka.SaslPassword,
                SaslMechanisms = source.Kafka.SaslMechanisms,
                SecurityProtocol = source.Kafka.SecurityProtocol,
                Consumer = source.Kafka.Consumer,
                ReadAhead = Math.Max(1, source.ReadChanLen),
                ReadBufferBytes = source.ReadBufferBytes,
            }, sp.GetService<ILogger<KafkaSourceChannels>>()));
        services.AddSingleton<IChangeDecoder, MsgStreamDecoder>();
        services.AddSingleton<ISourceMessageIdEncoder, SourceMessageIdEncoder>();
        services.AddSingleton<IMilvusTargetFactory>(sp => new MilvusTargetFactory(sp.GetService<ICertificateFiles>()));
        services.AddSingleton<IDmlMessageRewriter, DmlMessageRewriter>();
        services.AddSingleton<IControlMessageFactory, ControlMessageFactory>();
        services.AddSingleton<IUpsertRewriter, UpsertRewriter>();
        services.AddSingleton(TaskReplicationOptions.For(source.ReplicateChan));
        services.TryAddSingleton<ISourcePositionCodec, MsgPositionCodec>();
        services.AddSingleton<ITaskReplication, TaskReplication>();
        return services;
    }
}
