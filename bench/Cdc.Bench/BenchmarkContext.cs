namespace Cdc.Bench;

/// <summary>What every benchmark gets: where to write its results file and the clock.</summary>
public sealed record BenchmarkContext(string ResultsDirectory, TimeProvider TimeProvider)
{
    /// <summary>The directory holding Cdc.Cqrs.sln, found upwards from the working directory.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cdc.Cqrs.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
