using System.Runtime.InteropServices;

namespace Cdc.Infrastructure.Composition;

/// <summary>
/// Caps glibc's malloc at two arenas (mallopt M_ARENA_MAX), as <c>MALLOC_ARENA_MAX=2</c> would, unless the operator set
/// that variable. librdkafka receives each fetch into one native buffer the size of the response, on the thread of the
/// consumer's broker connection, one per source channel: with glibc's default of up to 8 arenas per core, every one of
/// those threads got an arena of its own, and each arena kept the 3 MB buffers it had freed. Measured with 16 channels
/// of 3 MB Inserts (bench/results/server-memory.md): peak RSS 305-316 MB with the default arenas, 266-297 MB with two,
/// at the same throughput.
/// </summary>
public static class NativeHeapArenas
{
    private const int MArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h

    public const int Arenas = 2;

    /// <summary>Applies the cap; false when the variable was set (glibc read it already) or this is not glibc.</summary>
    public static bool Limit()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return false;
        try
        {
            return Mallopt(MArenaMax, Arenas) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // a C library without mallopt (musl): its allocator has no per-thread arenas to cap
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);
}
