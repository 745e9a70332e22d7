using Cdc.Infrastructure.Composition;

namespace Cdc.Infrastructure.Tests.Composition;

public sealed class NativeHeapArenasTests
{
    /// <summary>The cap binds to this machine's C library and glibc accepts it (mallopt answers 1).</summary>
    [Fact]
    public void The_arena_cap_takes_effect_on_this_machine_s_glibc()
    {
        Assert.True(OperatingSystem.IsLinux());
        Assert.Null(Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX"));
        Assert.True(NativeHeapArenas.Limit());
    }
}
