namespace Cdc.Domain.Tasks;

/// <summary>
/// One entry of <c>name_mapping</c> (the reference's spelling): the source database <paramref name="SourceDb"/> is
/// written to <paramref name="TargetDb"/> on the target, and each source collection named in
/// <paramref name="CollectionMapping"/> to the given target collection; collections it does not name keep their names
/// (an empty mapping renames only the database).
/// </summary>
public sealed record NameMapping(string SourceDb, string TargetDb, IReadOnlyDictionary<string, string>? CollectionMapping = null);

/// <summary>Where a task writes each source database and collection on the target, after its name mappings.</summary>
public sealed class TargetNames(IReadOnlyList<NameMapping>? mappings)
{
    private readonly Dictionary<string, NameMapping> _byDatabase =
        (mappings ?? []).ToDictionary(m => CollectionSelection.DatabaseOrDefault(m.SourceDb), StringComparer.Ordinal);

    public static TargetNames Identity { get; } = new(null);

    /// <summary>The target database of a source database (empty: the default one).</summary>
    public string DatabaseOf(string? sourceDatabase)
    {
        var database = CollectionSelection.DatabaseOrDefault(sourceDatabase);
        return _byDatabase.TryGetValue(database, out var m) && m.TargetDb.Length > 0 ? m.TargetDb : database;
    }

    /// <summary>The target collection name of a source collection.</summary>
    public string CollectionOf(string? sourceDatabase, string collection) =>
        _byDatabase.TryGetValue(CollectionSelection.DatabaseOrDefault(sourceDatabase), out var m)
        && m.CollectionMapping?.TryGetValue(collection, out var target) == true ? target : collection;

    /// <summary>Whether a source collection is written under another database or collection name.</summary>
    public bool Renames(string? sourceDatabase, string collection) =>
        DatabaseOf(sourceDatabase) != CollectionSelection.DatabaseOrDefault(sourceDatabase) || CollectionOf(sourceDatabase, collection) != collection;
}
