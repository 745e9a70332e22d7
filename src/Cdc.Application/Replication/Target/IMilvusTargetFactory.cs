namespace Cdc.Application.Replication.Target;

/// <summary>Opens clients to target Milvus instances. Creating a client does no I/O; the first call connects.</summary>
public interface IMilvusTargetFactory
{
    IMilvusTarget Create(MilvusConnection connection);
}
