namespace Cdc.Domain.Tasks;

/// <summary>How a task applies the source's changes to its target (create's <c>apply_mode</c>).</summary>
public enum ApplyMode
{
    /// <summary>
    /// The reference's way (the default): DML forwarded with ReplicateMessage and DDL marked as replicated, into a
    /// target that runs as a standby (<c>common.ttMsgEnabled=false</c>).
    /// </summary>
    Replicate = 0,

    /// <summary>
    /// Into an ordinary, writable Milvus through its normal RPCs: Inserts as Upserts, Deletes by primary key, DDL
    /// without replicate metadata; a change sent twice leaves the same rows.
    /// </summary>
    Upsert = 1,
}

/// <summary>The names of <see cref="ApplyMode"/> in the API (<c>"replicate"</c>, <c>"upsert"</c>).</summary>
public static class ApplyModes
{
    public const string Replicate = "replicate";
    public const string Upsert = "upsert";

    /// <summary>The mode an API name stands for; null for any other text (names are exact, lower case).</summary>
    public static ApplyMode? Parse(string? name) => name switch
    {
        Replicate => ApplyMode.Replicate,
        Upsert => ApplyMode.Upsert,
        _ => null,
    };

    public static string Name(ApplyMode mode) => mode switch
    {
        ApplyMode.Replicate => Replicate,
        ApplyMode.Upsert => Upsert,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not an apply mode"),
    };
}
