namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>What happened to a key in the source metadata store.</summary>
public enum MetaChangeKind
{
    Put,
    Delete,
}
