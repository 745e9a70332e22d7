using System.Diagnostics;
using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>
/// The server loads Wolverine's handler code from src/Cdc.Api/Internal/Generated (TypeLoadMode.Static, no compiler at
/// run time). These files must be what `codegen write` makes of today's handlers, or a changed handler would run old code
/// or fail at its first message.
/// </summary>
public sealed class GeneratedCodeTests
{
    private static readonly string Committed = RepositoryRoot.File_(Path.Combine("src", "Cdc.Api", "Internal", "Generated"));

    [Fact]
    public async Task The_committed_handler_code_is_what_codegen_write_generates_today()
    {
        var workDir = Directory.CreateTempSubdirectory("cdc-codegen-");
        try
        {
            var info = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = workDir.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(CdcServerProcess.ServerAssembly);
            info.ArgumentList.Add("codegen");
            info.ArgumentList.Add("write");
            // The config file is read before the command runs (its path as a variable: the command line is JasperFx's).
            info.Environment["config"] = RepositoryRoot.File_(Path.Combine("configs", "cdc.yaml"));
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(limit.Token);
            Assert.True(process.ExitCode == 0, $"codegen write exited {process.ExitCode}:\n{await stdout}\n{await stderr}");

            var generated = Path.Combine(workDir.FullName, "Internal", "Generated");
            var expected = Files(generated);
            var actual = Files(Committed);
            Assert.NotEmpty(expected);
            var hint = "src/Cdc.Api/Internal/Generated is stale: run `config=$PWD/configs/cdc.yaml dotnet run -c Release --project src/Cdc.Api -- codegen write`";
            Assert.True(expected.Keys.Order().SequenceEqual(actual.Keys.Order()),
                $"{hint} (generated: {string.Join(", ", expected.Keys.Order())}; committed: {string.Join(", ", actual.Keys.Order())})");
            foreach (var (name, text) in expected)
                Assert.True(text == actual[name], $"{hint} ({name} differs)");
        }
        finally
        {
            workDir.Delete(recursive: true);
        }
    }

    private static Dictionary<string, string> Files(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
                .ToDictionary(f => Path.GetRelativePath(root, f).Replace('\\', '/'), f => File.ReadAllText(f).ReplaceLineEndings("\n"))
            : [];
}
