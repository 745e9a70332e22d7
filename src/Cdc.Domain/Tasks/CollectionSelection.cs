namespace Cdc.Domain.Tasks;

/// <summary>
/// One entry of a selection: a collection name (or <c>*</c>, every collection), and for a named collection optional
/// start positions (vchannel → base64 of a Milvus MsgPosition, where its shards start, exclusive) or
/// <paramref name="UseStartPosition"/> (start at the collection's creation).
/// </summary>
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
/// What a task replicates, as the reference's create request spells it: either <see cref="CollectionInfos"/> or
/// <see cref="DbCollections"/> is set, never both.
/// <list type="bullet">
/// <item><c>collection_infos: [{"name": "*"}]</c> is the whole cluster: every database that exists or is created
/// later, with all its collections (the seed documents' "cluster dimension");</item>
/// <item><c>collection_infos</c> with named collections: those collections of the database <c>default</c>;</item>
/// <item><c>db_collections</c>: per database (or <c>*</c>, every database), <c>*</c> or named collections.</item>
/// </list>
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
    public CollectionInfo? EntryFor(string? database, string collection) =>
        EntriesFor(DatabaseOrDefault(database))
            .Where(i => i.Name == collection || i.Name == CollectionInfo.All)
            .OrderBy(i => i.Name == CollectionInfo.All)
            .FirstOrDefault();

    /// <summary>
    /// Whether some collections of the database are selected, so the database itself must exist on the target (it is
    /// created there when the source creates it).
    /// </summary>
    public bool TouchesDatabase(string? database) => EntriesFor(DatabaseOrDefault(database)).Any();

    /// <summary>
    /// Whether the whole database is selected (every collection, now and later), so that what happens to the database
    /// itself (a drop, its properties) is replicated too.
    /// </summary>
    public bool CoversWholeDatabase(string? database) => EntriesFor(DatabaseOrDefault(database)).Any(i => i.Name == CollectionInfo.All);

    /// <summary>The selection entries that apply to a database, the database's own before those of <c>*</c>.</summary>
    private IEnumerable<CollectionInfo> EntriesFor(string database)
    {
        if (CollectionInfos is { } infos)
            return infos.Any(i => i.Name == CollectionInfo.All) ? infos : database == DefaultDatabase ? infos : [];
        return (DbCollections ?? new Dictionary<string, IReadOnlyList<CollectionInfo>>())
            .Where(kv => kv.Key == database || kv.Key == CollectionInfo.All)
            .OrderBy(kv => kv.Key == CollectionInfo.All)
            .SelectMany(kv => kv.Value);
    }
}
