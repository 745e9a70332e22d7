namespace Cdc.Domain.Tasks;

/// <summary>
/// The identity of a CDC task: by default a random UUID v4 without dashes (32 lowercase hex characters),
/// as the reference server makes them; callers may choose their own id on create.
/// </summary>
public readonly record struct TaskId(string Value)
{
    public const int MaxLength = 128;

    public static TaskId New() => new(Guid.NewGuid().ToString("N"));

    /// <summary>A caller-chosen id: letters, digits, '-' and '_', at most <see cref="MaxLength"/> characters.</summary>
    public static bool IsWellFormed(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= MaxLength &&
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public override string ToString() => Value;
}
