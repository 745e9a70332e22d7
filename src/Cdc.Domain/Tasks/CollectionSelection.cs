namespace Cdc.Domain.Tasks;

/// <summary>One entry of <c>collection_infos</c>: a collection name (or <c>*</c>) and optional start positions.</summary>
public sealed record CollectionInfo(
    string Name,
    IReadOnlyDictionary<string, string>? Positions = null,
    bool UseStartPosition = false)
{
    public const string All = "*";
}

/// <summary>The replicate ("RPC") channel of the source and an optional base64 MsgPosition to start from.</summary>
public sealed record RpcChannelInfo(string? Name, string? Position);

/// <summary>
/// What a task replicates. Either <see cref="CollectionInfos"/> (database <c>default</c>) or
/// <see cref="DbCollections"/> (database name, or <c>*</c>, to collections) is set, never both.
/// </summary>
public sealed record CollectionSelection(
    IReadOnlyList<CollectionInfo>? CollectionInfos,
    IReadOnlyDictionary<string, IReadOnlyList<CollectionInfo>>? DbCollections)
{
    public const string DefaultDatabase = "default";

    /// <summary>Milvus leaves the database name empty for its default database.</summary>
    public static string DatabaseOrDefault(string? database) => string.IsNullOrEmpty(database) ? DefaultDatabase : database;

    /// <summary>Whether a collection of a database (empty: the default one) falls under this selection.</summary>
    public bool Covers(string? database, string collection) => EntryFor(database, collection) is not null;

    /// <summary>
    /// The entry that selects a collection of a database (empty: the default one), or null when none does: an entry
    /// naming the collection wins over <c>*</c>, and under <see cref="DbCollections"/> a named database over <c>*</c>.
    /// </summary>
    public CollectionInfo? EntryFor(string? database, string collection)
    {
        database = DatabaseOrDefault(database);
        IEnumerable<CollectionInfo> entries = CollectionInfos is { } infos
            ? database == DefaultDatabase ? infos : []
            : (DbCollections ?? new Dictionary<string, IReadOnlyList<CollectionInfo>>())
                .Where(kv => kv.Key == database || kv.Key == CollectionInfo.All)
                .OrderBy(kv => kv.Key == CollectionInfo.All)
                .SelectMany(kv => kv.Value);
        return entries.Where(i => i.Name == collection || i.Name == CollectionInfo.All)
            .OrderBy(i => i.Name == CollectionInfo.All)
            .FirstOrDefault();
    }
}
