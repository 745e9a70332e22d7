namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>
/// Every key under a prefix as of one store revision. A watch started at <c>Revision + 1</c> continues exactly
/// where the snapshot ends: nothing missed, nothing seen twice.
/// </summary>
public sealed record MetaSnapshot(IReadOnlyList<MetaEntry> Entries, long Revision);
