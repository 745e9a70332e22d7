using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using Cdc.Testing.FakeMilvus;

namespace Cdc.Bench;

/// <summary>
/// The fake target Milvus in a process of its own (this program with "fake-target"), so that its CPU time is apart
/// from the CDC's: the benchmarks' ratios then measure the server, not the fake. It counts the Inserts it acknowledged
/// (<see cref="TargetCounter"/>) into a small memory-mapped file that this side reads without a call.
/// </summary>
public sealed class FakeTargetProcess : IAsyncDisposable
{
    private const int CounterBytes = 24;
    private readonly Process _process;
    private readonly string _countersPath;
    private readonly MemoryMappedFile _counters;
    private readonly MemoryMappedViewAccessor _view;

    private FakeTargetProcess(Process process, Uri uri, string countersPath)
    {
        _process = process;
        _countersPath = countersPath;
        Uri = uri;
        _counters = MemoryMappedFile.CreateFromFile(countersPath, FileMode.Open, null, CounterBytes, MemoryMappedFileAccess.Read);
        _view = _counters.CreateViewAccessor(0, CounterBytes, MemoryMappedFileAccess.Read);
    }

    public Uri Uri { get; }

    public int ProcessId => _process.Id;

    /// <summary>Insert messages (and Upsert calls) the target acknowledged so far.</summary>
    public long Inserts => _view.ReadInt64(0);

    /// <summary>Their bytes.</summary>
    public long InsertBytes => _view.ReadInt64(8);

    /// <summary>Time ticks the target acknowledged so far.</summary>
    public long Ticks => _view.ReadInt64(16);

    /// <summary>User + system CPU time of the fake target's process so far.</summary>
    public TimeSpan Cpu => TimeSpan.FromSeconds(CpuSecondsOf(_process.Id));

    public static async Task<FakeTargetProcess> StartAsync(CancellationToken cancellationToken)
    {
        var countersPath = Path.Combine(Path.GetTempPath(), $"cdc-bench-target-{Guid.NewGuid():N}.counters");
        await File.WriteAllBytesAsync(countersPath, new byte[CounterBytes], cancellationToken);
        var process = Process.Start(new ProcessStartInfo("dotnet", [typeof(FakeTargetProcess).Assembly.Location, "fake-target", "--counters", countersPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
        }) ?? throw new InvalidOperationException("the fake target process did not start");
        var address = await process.StandardOutput.ReadLineAsync(cancellationToken)
                      ?? throw new InvalidOperationException("the fake target process printed no address");
        return new FakeTargetProcess(process, new Uri(address), countersPath);
    }

    /// <summary>
    /// The child's side: a fake target that neither records calls nor applies rows, its counts written to
    /// <paramref name="countersPath"/> after every acknowledged call; serves until standard input gives a line or
    /// closes.
    /// </summary>
    public static async Task ServeAsync(int port, string? countersPath)
    {
        using var counters = countersPath is null ? null : MemoryMappedFile.CreateFromFile(countersPath, FileMode.Open, null, CounterBytes);
        using var view = counters?.CreateViewAccessor(0, CounterBytes);
        var counter = new TargetCounter(null, null);
        var gate = new object();
        void OnHandled(FakeMilvusCall call, bool handled)
        {
            lock (gate)
            {
                counter.OnHandled(call, handled);
                // Bytes first: whoever sees the new count sees the bytes that go with it.
                view!.Write(16, counter.Ticks);
                view.Write(8, counter.InsertBytes);
                view.Write(0, counter.Inserts);
            }
        }

        await using var target = await FakeMilvusServer.StartAsync(new FakeMilvusOptions
        {
            RecordCalls = false,
            ApplyRows = false,
            Port = port,
            OnHandled = view is null ? null : OnHandled,
        }, CancellationToken.None);
        Console.WriteLine(target.Uri);
        await Console.In.ReadLineAsync();
    }

    /// <summary>User + system CPU seconds of a process so far (/proc/[pid]/stat fields 14 and 15, in clock ticks of 1/100 s).</summary>
    public static double CpuSecondsOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.WriteLineAsync();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill();
            }
        }
        finally
        {
            _view.Dispose();
            _counters.Dispose();
            _process.Dispose();
            File.Delete(_countersPath);
        }
    }
}
