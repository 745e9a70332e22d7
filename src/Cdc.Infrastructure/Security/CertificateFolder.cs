using Cdc.Application.Replication.Target;

namespace Cdc.Infrastructure.Security;

/// <summary>
/// <see cref="ICertificateFiles"/> over one folder (<c>certificatesDir</c>). A path is resolved against the folder,
/// then every symbolic link on the way is followed (up to <see cref="MaxLinks"/>) by reading the link itself, so the
/// file that would be opened is known before anything is opened; it must lie inside the folder's own resolved path.
/// The check runs again on every read, so a link changed after a task was created is caught then.
/// </summary>
public sealed class CertificateFolder : ICertificateFiles
{
    /// <summary>Most symbolic links followed for one path (Linux's own limit is 40).</summary>
    public const int MaxLinks = 40;

    /// <summary>Largest certificate or key file read: PEM files of a certificate chain are far smaller.</summary>
    public const int MaxFileBytes = 1 << 20;

    private readonly string? _root;

    /// <param name="root">The folder; null refuses every path (no folder configured).</param>
    public CertificateFolder(string? root) => _root = root is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));

    /// <summary>A folder that refuses every path: what a target client gets when no folder is configured.</summary>
    public static CertificateFolder None { get; } = new(null);

    public string? Refusal(string path) => Resolve(path, out _);

    public string ReadText(string field, string path)
    {
        if (Resolve(path, out var file) is { } refusal) throw new CertificateFileException(field, path, refusal);
        try
        {
            using var stream = new FileStream(file!, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.None);
            if (stream.Length > MaxFileBytes)
                throw new CertificateFileException(field, path, $"the file is larger than {MaxFileBytes} bytes, which no PEM certificate or key is");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        // The runtime's messages name the full path, which is the server's business: say what happened instead.
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CertificateFileException(field, path, "no such file in the certificates folder");
        }
        catch (UnauthorizedAccessException)
        {
            throw new CertificateFileException(field, path, "the server may not read this file (permission denied)");
        }
        catch (IOException)
        {
            throw new CertificateFileException(field, path, "the file cannot be read");
        }
    }

    /// <summary>Null and the file's resolved path when <paramref name="path"/> stays inside the folder, else why not.</summary>
    private string? Resolve(string path, out string? file)
    {
        file = null;
        if (_root is null) return "no certificates folder is configured on the server (certificatesDir), so no certificate file can be named";
        if (string.IsNullOrWhiteSpace(path)) return "the path is empty";
        if (path.Contains('\0') || path.IndexOfAny(Path.GetInvalidPathChars()) >= 0) return "the path holds characters no file name may hold";
        var parts = path.Split(Separators);
        if (parts.Contains("..")) return "the path must not contain '..': name a file inside the certificates folder";

        string root, candidate;
        try
        {
            root = RealPath(_root);
            candidate = RealPath(Path.IsPathRooted(path) ? Path.GetFullPath(path) : Path.Join(_root, path));
        }
        catch (TooManyLinksException)
        {
            return $"more than {MaxLinks} symbolic links on the way to the file";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return "the path cannot be checked (a folder on the way cannot be read)";
        }

        if (!candidate.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            return candidate == root
                ? "the path names the certificates folder itself, not a file in it"
                // A relative path without '..' can only leave the folder through a link.
                : Path.IsPathRooted(path)
                    ? "the file is outside the certificates folder: name a file inside it, by a path relative to the folder (certificatesDir)"
                    : "the path leads outside the certificates folder through a symbolic link: name a file inside it";
        if (Directory.Exists(candidate)) return "the path names a folder, not a file";
        file = candidate;
        return null;
    }

    private static readonly char[] Separators = ['/', Path.DirectorySeparatorChar];

    /// <summary>
    /// The absolute path with every symbolic link resolved, as realpath(3) gives it, read link by link without
    /// opening anything; components that do not exist are kept as they are.
    /// </summary>
    private static string RealPath(string absolute)
    {
        var pending = new Stack<string>();
        Push(pending, absolute);
        var current = Path.GetPathRoot(absolute) is { Length: > 0 } start ? start : "/";
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Join(current, part);
            if (new FileInfo(next).LinkTarget is not { } target)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks) throw new TooManyLinksException();
            Push(pending, target);
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target)!;
        }

        return current;
    }

    private static void Push(Stack<string> pending, string path)
    {
        var parts = path.Split(Separators);
        for (var i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }

    private sealed class TooManyLinksException : Exception;
}
