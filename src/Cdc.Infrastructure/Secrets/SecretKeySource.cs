namespace Cdc.Infrastructure.Secrets;

/// <summary>
/// Finds the key that protects secrets at rest: the configured base64 key (config or environment) when given,
/// otherwise a key file, generated with owner-only permissions on first start and reused afterwards.
/// </summary>
public static class SecretKeySource
{
    public static byte[] Resolve(string? configuredKey, string keyFile)
    {
        if (!string.IsNullOrWhiteSpace(configuredKey)) return Decode(configuredKey.Trim(), "metaStoreConfig.secretKey");
        if (File.Exists(keyFile)) return Decode(File.ReadAllText(keyFile).Trim(), $"the key file {keyFile}");

        var directory = Path.GetDirectoryName(Path.GetFullPath(keyFile))!;
        Directory.CreateDirectory(directory);
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var temp = Path.Combine(directory, $".{Path.GetFileName(keyFile)}.{Environment.ProcessId}.tmp");
#pragma warning disable CA1416 // guarded: UnixCreateMode is null on Windows
        using (var stream = new FileStream(temp, new FileStreamOptions
               {
                   Mode = FileMode.CreateNew, Access = FileAccess.Write,
                   UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
               }))
#pragma warning restore CA1416
        using (var writer = new StreamWriter(stream))
            writer.Write(Convert.ToBase64String(key));
        try
        {
            File.Move(temp, keyFile, overwrite: false);
        }
        catch (IOException) when (File.Exists(keyFile))
        {
            // Another server generated it first: use theirs.
            File.Delete(temp);
            return Decode(File.ReadAllText(keyFile).Trim(), $"the key file {keyFile}");
        }
        return key;
    }

    private static byte[] Decode(string base64, string where)
    {
        byte[] key;
        try { key = Convert.FromBase64String(base64); }
        catch (FormatException) { throw new InvalidOperationException($"{where}: the secret key is not valid base64"); }
        return key.Length == 32 ? key : throw new InvalidOperationException($"{where}: the secret key must be 32 bytes, base64-encoded (got {key.Length} bytes)");
    }
}
