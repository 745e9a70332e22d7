namespace Cdc.Testing;

/// <summary>Where the servers started by scripts/test.sh listen, read from the environment it exports.</summary>
public static class TestEnvironment
{
    public static string Require(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{variable} is not set: run the tests through scripts/test.sh, which starts the servers they need.");
}
