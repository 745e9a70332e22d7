using Cdc.Application.Replication.Decoding;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Decoding;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cdc.Infrastructure.Target;

/// <summary>Registers the Milvus wire adapters behind their Application ports.</summary>
public static class MilvusWireRegistration
{
    public static IServiceCollection AddMilvusWire(this IServiceCollection services, MilvusClientOptions? options = null)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(options ?? new MilvusClientOptions());
        services.TryAddSingleton<IMilvusTargetFactory, MilvusTargetFactory>();
        services.TryAddSingleton<IChangeDecoder, MsgStreamDecoder>();
        services.TryAddSingleton<IDmlMessageRewriter, DmlMessageRewriter>();
        services.TryAddSingleton<IControlMessageFactory, ControlMessageFactory>();
        services.TryAddSingleton<ISourceMessageIdEncoder, SourceMessageIdEncoder>();
        return services;
    }
}
