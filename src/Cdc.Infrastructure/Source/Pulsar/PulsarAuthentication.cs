namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// What CONNECT carries to authenticate. Only token authentication is supported: <c>authPlugin</c>
/// <c>org.apache.pulsar.client.impl.auth.AuthenticationToken</c> (or <c>token</c>) with <c>authParams</c> in the form
/// Milvus and the reference CDC take them, <c>key:value[,key:value]</c> (<c>token:eyJ...</c> or
/// <c>file:/path/to/token</c>), which they turn into the Pulsar Go client's JSON parameters.
/// </summary>
public sealed class PulsarAuthentication
{
    public const string TokenPluginClass = "org.apache.pulsar.client.impl.auth.AuthenticationToken";
    private readonly string? _token;
    private readonly string? _tokenFile;

    private PulsarAuthentication(string? methodName, string? token, string? tokenFile)
    {
        MethodName = methodName;
        _token = token;
        _tokenFile = tokenFile;
    }

    public static PulsarAuthentication None { get; } = new(null, null, null);

    /// <summary>The auth_method_name of CONNECT, or null without authentication.</summary>
    public string? MethodName { get; }

    public static PulsarAuthentication FromConfig(string? authPlugin, string? authParams)
    {
        if (string.IsNullOrWhiteSpace(authPlugin)) return None;
        var plugin = authPlugin.Trim();
        if (plugin is not ("token" or TokenPluginClass))
            throw new ArgumentException(
                $"sourceConfig.pulsar.authPlugin: '{plugin}' is not supported; use {TokenPluginClass} (token authentication)");
        // As Milvus' paramtable and the reference CDC: split on ',' then ':', keeping pairs of exactly two parts.
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (authParams ?? "").Split(','))
        {
            var parts = pair.Split(':');
            if (parts.Length == 2) parameters[parts[0].Trim()] = parts[1].Trim();
        }

        if (parameters.TryGetValue("token", out var token) && token.Length > 0) return new PulsarAuthentication("token", token, null);
        if (parameters.TryGetValue("file", out var file) && file.Length > 0) return new PulsarAuthentication("token", null, file);
        throw new ArgumentException("sourceConfig.pulsar.authParams: token authentication needs token:<token> or file:<path of a token file>");
    }

    /// <summary>The auth_data of CONNECT (and of an answer to an AUTH_CHALLENGE): the token, read anew from its file.</summary>
    public byte[] Data()
    {
        if (_token is not null) return System.Text.Encoding.UTF8.GetBytes(_token);
        if (_tokenFile is null) return [];
        string text;
        try
        {
            text = File.ReadAllText(_tokenFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PulsarProtocolException($"cannot read the Pulsar token file {_tokenFile}: {e.Message}", e);
        }

        var trimmed = text.Trim(' ', '\n', '\r');
        return trimmed.Length > 0
            ? System.Text.Encoding.UTF8.GetBytes(trimmed)
            : throw new PulsarProtocolException($"the Pulsar token file {_tokenFile} is empty");
    }

    public override string ToString() => MethodName is null ? "no authentication" : _tokenFile is null ? "token" : $"token from {_tokenFile}";
}
