using Cdc.Application.Replication;
using Cdc.Application.Replication.Ports;
using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.Etcd;
using Cdc.Infrastructure.Kafka;
using Cdc.Infrastructure.Milvus;
using Cdc.Infrastructure.SourceMeta;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cdc.Infrastructure.Replication;

/// <summary>
/// Wires <see cref="TaskReplicationEngine"/> as the server's <see cref="ITaskReplication"/> with the adapters of the
/// configured source (etcd metadata, Kafka channels) and target (Milvus gRPC). Expects TimeProvider, logging,
/// <c>IEventStore</c> and <c>ISecretProtector</c> to be registered already (the server's infrastructure does), and
/// <c>ICertificateFiles</c> for targets dialled with TLS files (without it every dial_config file is refused).
/// </summary>
public static class TaskReplicationRegistration
{
    public static IServiceCollection AddTaskReplication(this IServiceCollection services, SourceConfig source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (string.IsNullOrEmpty(source.Kafka.Address))
            throw new NotSupportedException("only a Kafka source is supported by the replication (sourceConfig.kafka.address is empty)");

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
        services.AddSingleton<ISourceChannels>(sp => new KafkaSourceChannels(new KafkaSourceOptions
        {
            Address = source.Kafka.Address,
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
        services.AddSingleton<IMilvusTargetFactory>(sp => new MilvusTargetFactory(
            new MilvusClientOptions(), sp.GetRequiredService<TimeProvider>(), sp.GetService<ICertificateFiles>()));
        services.AddSingleton<IDmlMessageRewriter, DmlMessageRewriter>();
        services.AddSingleton<IControlMessageFactory, ControlMessageFactory>();
        services.AddSingleton(TaskReplicationOptions.For(source.ReplicateChan));
        services.TryAddSingleton<ISourcePositionCodec, MsgPositionCodec>();
        services.AddSingleton<ITaskReplication, TaskReplicationEngine>();
        return services;
    }
}
