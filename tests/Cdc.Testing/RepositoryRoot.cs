namespace Cdc.Testing;

/// <summary>The checkout the tests run from, found by walking up to Cdc.Cqrs.sln.</summary>
public static class RepositoryRoot
{
    public static string Path
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Cdc.Cqrs.sln"))) return dir.FullName;
            throw new InvalidOperationException("Cdc.Cqrs.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string File_(string relative) => System.IO.Path.Combine(Path, relative);
}
