using System.Globalization;

namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>
/// Where Milvus 2.3–2.5 keeps root-coord metadata in etcd: P = <c>&lt;rootPath&gt;/&lt;metaSubPath&gt;</c>, and under
/// <c>P/root-coord/</c> the keys <c>database/db-info/&lt;dbID&gt;</c>,
/// <c>database/collection-info/&lt;dbID&gt;/&lt;collID&gt;</c>, <c>fields/&lt;collID&gt;/&lt;fieldID&gt;</c>,
/// <c>functions/&lt;collID&gt;/&lt;funcID&gt;</c> and <c>partitions/&lt;collID&gt;/&lt;partID&gt;</c>. The suffix-snapshot
/// history (<c>P/snapshots/…</c>) lies outside <see cref="RootCoordPrefix"/> and is never read.
/// </summary>
public sealed record SourceMetaLayout(string RootPath = "by-dev", string MetaSubPath = "meta")
{
    public string MetaPrefix => $"{RootPath.TrimEnd('/')}/{MetaSubPath.Trim('/')}/";

    /// <summary>Everything the reader reads or watches lives under this prefix.</summary>
    public string RootCoordPrefix => MetaPrefix + "root-coord/";

    public string DatabaseKey(long dbId) => $"{RootCoordPrefix}database/db-info/{Id(dbId)}";

    public string CollectionKey(long dbId, long collectionId) => $"{RootCoordPrefix}database/collection-info/{Id(dbId)}/{Id(collectionId)}";

    public string FieldKey(long collectionId, long fieldId) => $"{RootCoordPrefix}fields/{Id(collectionId)}/{Id(fieldId)}";

    public string FunctionKey(long collectionId, long functionId) => $"{RootCoordPrefix}functions/{Id(collectionId)}/{Id(functionId)}";

    public string PartitionKey(long collectionId, long partitionId) => $"{RootCoordPrefix}partitions/{Id(collectionId)}/{Id(partitionId)}";

    /// <summary>Milvus' suffix-snapshot history key of <paramref name="key"/> at <paramref name="timestamp"/>.</summary>
    public string SnapshotKey(string key, ulong timestamp) =>
        $"{MetaPrefix}snapshots/{key[MetaPrefix.Length..]}_ts{timestamp.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>What <paramref name="key"/> names, or null for keys the reader does not use.</summary>
    public SourceMetaKey? Parse(string key)
    {
        if (!key.StartsWith(RootCoordPrefix, StringComparison.Ordinal)) return null;
        var parts = key[RootCoordPrefix.Length..].Split('/');
        return parts switch
        {
            ["database", "db-info", var db] when TryId(db, out var id) =>
                new SourceMetaKey(SourceMetaKeyKind.Database, 0, id),
            ["database", "collection-info", var db, var coll] when TryId(db, out var dbId) && TryId(coll, out var id) =>
                new SourceMetaKey(SourceMetaKeyKind.Collection, dbId, id),
            ["fields", var coll, var field] when TryId(coll, out var collId) && TryId(field, out var id) =>
                new SourceMetaKey(SourceMetaKeyKind.Field, collId, id),
            ["functions", var coll, var function] when TryId(coll, out var collId) && TryId(function, out var id) =>
                new SourceMetaKey(SourceMetaKeyKind.Function, collId, id),
            ["partitions", var coll, var partition] when TryId(coll, out var collId) && TryId(partition, out var id) =>
                new SourceMetaKey(SourceMetaKeyKind.Partition, collId, id),
            _ => null,
        };
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static bool TryId(string text, out long id) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
}
