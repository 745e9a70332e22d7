namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>
/// Writes to a Milvus-style metadata store. The replication itself only reads the source; this is for tools that
/// play the source Milvus (the test simulator) and for maintenance.
/// </summary>
public interface ISourceMetaWriter
{
    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/>; returns the store revision of the write.</summary>
    Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken);

    /// <summary>Deletes one key; returns how many keys were deleted (0 or 1).</summary>
    Task<long> DeleteAsync(string key, CancellationToken cancellationToken);
}
