namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>The kinds of root-coord keys the source metadata reader uses.</summary>
public enum SourceMetaKeyKind
{
    Database,
    Collection,
    Field,
    Function,
    Partition,
}

/// <summary>
/// A parsed root-coord key. <paramref name="ParentId"/> is the database id of a collection key and the collection id
/// of a field, function or partition key (0 for a database key); <paramref name="Id"/> is the object's own id.
/// </summary>
public readonly record struct SourceMetaKey(SourceMetaKeyKind Kind, long ParentId, long Id);
