using Cdc.Application.Replication.Ports;

namespace Cdc.Infrastructure.Milvus;

/// <summary>
/// Creates <see cref="MilvusTargetClient"/>s; each owns its HTTP/2 connection pool. dial_config files are read from
/// <paramref name="certificates"/> (none when null: every file is refused).
/// </summary>
public sealed class MilvusTargetFactory(MilvusClientOptions options, TimeProvider timeProvider, ICertificateFiles? certificates = null) : IMilvusTargetFactory
{
    public IMilvusTarget Create(MilvusConnection connection) => new MilvusTargetClient(connection, options, timeProvider, certificates);
}
