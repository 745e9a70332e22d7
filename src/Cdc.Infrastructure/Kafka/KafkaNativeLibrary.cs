using System.Reflection;
using System.Runtime.InteropServices;

namespace Cdc.Infrastructure.Kafka;

/// <summary>
/// Lets Confluent.Kafka load the operating system's librdkafka. Its loader dlopens "libdl", which Debian 12 only has
/// as libdl.so.2 (without this: DllNotFoundException: libdl), and its P/Invokes name "librdkafka", which without the
/// -dev package exists only as librdkafka.so.1.
/// </summary>
public static class KafkaNativeLibrary
{
    // Process-wide on purpose: a DllImport resolver can be set only once per assembly, and the native library it
    // picks is shared by every Kafka client in the process. The Lazy makes the installation exactly-once and
    // thread-safe; it holds no state that changes afterwards, so nothing leaks between tests or clients.
    private static readonly Lazy<bool> Installation = new(Install, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Installs the resolver (once; later calls do nothing). Call before the first Kafka client is built.</summary>
    /// <returns>False when another resolver was already installed on Confluent.Kafka; that one is then used.</returns>
    public static bool EnsureInstalled() => Installation.Value;

    private static bool Install()
    {
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, Resolve);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // someone else set a resolver for this assembly first
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) => name switch
    {
        "libdl" => TryLoad("libdl.so.2"),
        // The same file as librdkafka.so (a link to it) when librdkafka-dev is installed, so one copy is loaded.
        "librdkafka" => TryLoad("librdkafka.so.1"),
        _ => IntPtr.Zero, // the default search
    };

    private static IntPtr TryLoad(string file) => NativeLibrary.TryLoad(file, out var handle) ? handle : IntPtr.Zero;
}
