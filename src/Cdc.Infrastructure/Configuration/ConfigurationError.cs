namespace Cdc.Infrastructure.Configuration;

/// <summary>A configuration the server refuses to start with; every problem names its key.</summary>
public sealed class ConfigurationError(IReadOnlyList<string> problems)
    : Exception("bad configuration:\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
