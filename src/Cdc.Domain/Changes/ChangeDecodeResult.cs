namespace Cdc.Domain.Changes;

/// <summary>
/// What decoding one source message gave: a change, or the reason it could not be decoded. Message types the
/// replicator has no use for (e.g. DataNodeTt) are a failure with <see cref="IsUnsupported"/> set, so a reader can
/// skip them without treating them as corruption.
/// </summary>
public sealed record ChangeDecodeResult
{
    private ChangeDecodeResult(SourceChange? change, UndecodableMessage? failure, bool isUnsupported)
    {
        Change = change;
        Failure = failure;
        IsUnsupported = isUnsupported;
    }

    public SourceChange? Change { get; }

    public UndecodableMessage? Failure { get; }

    public bool IsUnsupported { get; }

    public bool IsSuccess => Change is not null;

    public static ChangeDecodeResult Success(SourceChange change) => new(change, null, false);

    public static ChangeDecodeResult Corrupt(UndecodableMessage failure) => new(null, failure, false);

    public static ChangeDecodeResult Unsupported(UndecodableMessage failure) => new(null, failure, true);
}
