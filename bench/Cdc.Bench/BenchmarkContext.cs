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

    /// <summary>The 1-minute load average (/proc/loadavg), to show how busy the machine was around a run.</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>A closing line for a results file: the machine's load before and after the run and the GC mode.</summary>
    public static string MachineNote(string loadBefore) =>
        $"Machine: {Environment.ProcessorCount} cores, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC; 1-minute load average {loadBefore} before and "
        + $"{LoadAverage()} after the run (above {Environment.ProcessorCount}: other work, e.g. another agent's builds and tests, shared the cores, so the figures are pessimistic and noisy).";
}
