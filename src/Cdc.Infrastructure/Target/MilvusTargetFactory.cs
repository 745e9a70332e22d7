using Cdc.Application.Replication.Target;

namespace Cdc.Infrastructure.Target;

/// <summary>
/// Creates <see cref="MilvusTargetClient"/>s; each owns its HTTP/2 connection pool. dial_config files are read from
/// <paramref name="certificates"/> (none when null: every file is refused).
/// </summary>
public sealed class MilvusTargetFactory(ICertificateFiles? certificates = null) : IMilvusTargetFactory
{
    public IMilvusTarget Create(MilvusConnection connection) => new MilvusTargetClient(connection, certificates);
}
