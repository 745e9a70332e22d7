namespace Cdc.Application.Replication.Target;

/// <summary>
/// The certificate files a task's <c>dial_config</c> may name: only files inside the server's certificates folder,
/// named by a path relative to it (or an absolute path inside it). Paths that leave the folder (<c>..</c>, an
/// absolute path elsewhere, a symbolic link pointing out) are refused, and nothing outside the folder is opened.
/// Messages name the path as the caller gave it, never the server's folders.
/// </summary>
public interface ICertificateFiles
{
    /// <summary>Why <paramref name="path"/> may not be used, or null when it names a place inside the folder.</summary>
    string? Refusal(string path);

    /// <summary>
    /// The text of the file <paramref name="path"/> names, after the checks of <see cref="Refusal"/>.
    /// Throws <see cref="CertificateFileException"/> naming <paramref name="field"/> and the path as given.
    /// </summary>
    string ReadText(string field, string path);
}

/// <summary>A dial_config file that cannot be used: outside the certificates folder, missing, unreadable or not PEM.</summary>
public sealed class CertificateFileException(string field, string path, string problem)
    : Exception($"{field} '{path}': {problem}")
{
    public string Field { get; } = field;

    public string PathAsGiven { get; } = path;
}
