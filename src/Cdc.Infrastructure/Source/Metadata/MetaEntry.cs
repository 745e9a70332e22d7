namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>One key of the source Milvus' metadata store (etcd) as read at some revision.</summary>
/// <param name="Key">The key, e.g. <c>by-dev/meta/root-coord/database/collection-info/1/4455</c>.</param>
/// <param name="Value">The stored bytes (a binary protobuf, or the tombstone, see <see cref="MetaTombstone"/>).</param>
/// <param name="CreateRevision">Store revision at which the key was created.</param>
/// <param name="ModRevision">Store revision of the last change to the key.</param>
/// <param name="Version">How many times the key was written since it was created.</param>
public sealed record MetaEntry(string Key, ReadOnlyMemory<byte> Value, long CreateRevision, long ModRevision, long Version);
