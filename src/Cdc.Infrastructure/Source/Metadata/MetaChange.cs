namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>One change seen by a watch on the source metadata store.</summary>
/// <param name="Kind">Put or Delete. Milvus rarely deletes: it overwrites with <see cref="MetaTombstone"/>.</param>
/// <param name="Key">The key that changed.</param>
/// <param name="Value">The new value; empty for a Delete.</param>
/// <param name="ModRevision">Store revision of this change. Several changes can share one revision (a transaction).</param>
/// <param name="PreviousValue">The value before the change, when the watch asked for it and the key existed.</param>
public sealed record MetaChange(
    MetaChangeKind Kind,
    string Key,
    ReadOnlyMemory<byte> Value,
    long ModRevision,
    ReadOnlyMemory<byte>? PreviousValue);
