namespace Cdc.Domain.Changes;

/// <summary>The primary keys a message touches: Milvus keys are either all int64 or all strings.</summary>
public abstract record PrimaryKeys
{
    public abstract int Count { get; }

    public static readonly PrimaryKeys None = new Int64PrimaryKeys([]);
}

public sealed record Int64PrimaryKeys(IReadOnlyList<long> Keys) : PrimaryKeys
{
    public override int Count => Keys.Count;

    public bool Equals(Int64PrimaryKeys? other) => other is not null && Keys.SequenceEqual(other.Keys);

    public override int GetHashCode() => Count;

    public override string ToString() => $"{Count} int64 keys";
}

public sealed record StringPrimaryKeys(IReadOnlyList<string> Keys) : PrimaryKeys
{
    public override int Count => Keys.Count;

    public bool Equals(StringPrimaryKeys? other) => other is not null && Keys.SequenceEqual(other.Keys);

    public override int GetHashCode() => Count;

    public override string ToString() => $"{Count} string keys";
}
