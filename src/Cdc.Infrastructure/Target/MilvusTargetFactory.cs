using Cdc.Application.Replication.Target;

namespace Cdc.Infrastructure.Target;

/// <summary>Creates <see cref="MilvusTargetClient"/>s; each owns its HTTP/2 connection pool.</summary>
public sealed class MilvusTargetFactory : IMilvusTargetFactory
{
    public IMilvusTarget Create(MilvusConnection connection) => new MilvusTargetClient(connection);
}
