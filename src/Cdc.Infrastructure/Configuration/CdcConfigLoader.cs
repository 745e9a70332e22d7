using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Cdc.Infrastructure.Configuration;

/// <summary>
/// Reads cdc.yaml, lets environment variables override any key (<c>CDC_maxTaskNum=10</c>,
/// <c>CDC_metaStoreConfig__rootPath=tenant2</c>, <c>CDC_sourceConfig__etcd__address__0=http://…</c>; keys are
/// case-insensitive, as in the reference server) and checks every value, naming the key of each problem.
/// </summary>
public static partial class CdcConfigLoader
{
    public const string EnvironmentPrefix = "CDC_";

    public static CdcConfig Load(string path, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        if (!File.Exists(path)) throw new ConfigurationError([$"config file {path}: not found"]);
        Dictionary<string, string?> flat;
        try
        {
            flat = FlattenYaml(File.ReadAllText(path));
        }
        catch (YamlException ex)
        {
            throw new ConfigurationError([$"config file {path}: not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}"]);
        }
        var builder = new ConfigurationBuilder().AddInMemoryCollection(flat).AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null) builder.AddInMemoryCollection(overrides);
        return Bind(builder.Build());
    }

    public static CdcConfig Bind(IConfiguration c)
    {
        var r = new Reader(c);
        var address = r.String("address", "0.0.0.0:8444");
        if (!AddressPattern().IsMatch(address) || !int.TryParse(address[(address.LastIndexOf(':') + 1)..], out var port) || port is < 1 or > 65535)
            r.Problem("address", $"expected host:port with a port from 1 to 65535, got '{address}'");
        var maxTaskNum = r.Int("maxTaskNum", 100, min: 1);
        var maxNameLength = r.Int("maxNameLength", 256, min: 0);
        if (maxNameLength == 0) maxNameLength = 256; // as the reference: 0 means the default

        var storeType = r.String("metaStoreConfig:storeType", "postgres");
        if (!storeType.Equals("postgres", StringComparison.OrdinalIgnoreCase))
            r.Problem("metaStoreConfig:storeType", $"'{storeType}' is not supported by this server; use postgres (the event store lives in PostgreSQL)");
        var connectionString = r.String("metaStoreConfig:postgres:connectionString", "");
        if (connectionString.Length == 0) r.Problem("metaStoreConfig:postgres:connectionString", "is required");
        else
        {
            try { _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString); }
            catch (ArgumentException ex) { r.Problem("metaStoreConfig:postgres:connectionString", $"is not a valid connection string ({ex.Message.Split('\n')[0]})"); }
        }
        var schema = r.String("metaStoreConfig:postgres:schema", "cdc");
        if (!IdentifierPattern().IsMatch(schema)) r.Problem("metaStoreConfig:postgres:schema", $"must be a lowercase SQL identifier, got '{schema}'");
        var rootPath = r.String("metaStoreConfig:rootPath", "cdc");
        if (rootPath.Length == 0) r.Problem("metaStoreConfig:rootPath", "must not be empty");
        var metaStore = new MetaStoreConfig(storeType, connectionString, rootPath, schema,
            r.OptionalString("metaStoreConfig:secretKey"), r.String("metaStoreConfig:secretKeyFile", ".data/secret.key"));

        var etcd = new EtcdConfig(
            r.List("sourceConfig:etcd:address", ["http://127.0.0.1:2379"]),
            r.String("sourceConfig:etcd:rootPath", "by-dev"),
            r.String("sourceConfig:etcd:metaSubPath", "meta"),
            r.Bool("sourceConfig:etcd:enableAuth", false),
            r.OptionalString("sourceConfig:etcd:username"),
            r.OptionalString("sourceConfig:etcd:password"),
            r.Bool("sourceConfig:etcd:enableTLS", false),
            r.OptionalString("sourceConfig:etcd:tlsCertPath"),
            r.OptionalString("sourceConfig:etcd:tlsKeyPath"),
            r.OptionalString("sourceConfig:etcd:tlsCACertPath"),
            r.OptionalString("sourceConfig:etcd:tlsMinVersion"));
        foreach (var (a, i) in etcd.Address.Select((a, i) => (a, i)))
            if (!Uri.TryCreate(a.Contains("://") ? a : "http://" + a, UriKind.Absolute, out _))
                r.Problem($"sourceConfig:etcd:address:{i}", $"'{a}' is not an address");
        if (etcd.EnableAuth && (etcd.Username is null || etcd.Password is null))
            r.Problem("sourceConfig:etcd:username", "enableAuth is true, so username and password are required");

        var kafka = new KafkaConfig(
            r.OptionalString("sourceConfig:kafka:address"),
            r.OptionalString("sourceConfig:kafka:saslUsername"),
            r.OptionalString("sourceConfig:kafka:saslPassword"),
            r.OptionalString("sourceConfig:kafka:saslMechanisms"),
            r.OptionalString("sourceConfig:kafka:securityProtocol"),
            r.Map("sourceConfig:kafka:consumer"),
            r.Map("sourceConfig:kafka:producer"));
        var pulsar = new PulsarConfig(
            r.OptionalString("sourceConfig:pulsar:address"),
            r.OptionalString("sourceConfig:pulsar:webAddress"),
            r.Int("sourceConfig:pulsar:maxMessageSize", 5242880, min: 1),
            r.String("sourceConfig:pulsar:tenant", "public"),
            r.String("sourceConfig:pulsar:namespace", "default"),
            r.OptionalString("sourceConfig:pulsar:authPlugin"),
            r.OptionalString("sourceConfig:pulsar:authParams"),
            r.OptionalString("sourceConfig:pulsar:tlsTrustCertsFilePath"));
        if (kafka.Address is null && pulsar.Address is null)
            r.Problem("sourceConfig:kafka:address", "set the source's message queue: sourceConfig.kafka.address or sourceConfig.pulsar.address");
        var replicateChan = r.String("sourceConfig:replicateChan", "");
        if (replicateChan.Length == 0)
            r.Problem("sourceConfig:replicateChan", "is required: {msgChannel.chanNamePrefix.cluster}-{msgChannel.chanNamePrefix.replicateMsg} of the source, e.g. by-dev-replicate-msg");
        var source = new SourceConfig(etcd, kafka, pulsar, replicateChan,
            r.String("sourceConfig:defaultPartitionName", "_default"),
            r.Int("sourceConfig:readChanLen", 4, min: 0),
            r.Int("sourceConfig:readBufferBytes", 16 << 20, min: 1024));

        var maxRequestBytes = r.Int("maxRequestBytes", 1 << 20, min: 1024);
        var taskStartsPerSecond = r.Int("taskStartsPerSecond", CdcConfig.DefaultTaskStartsPerSecond, min: 1);
        var certificatesDir = CertificatesDir(r);
        var apiAuth = ApiAuth(r);
        var apiTls = ApiTls(r);
        var statusPage = new StatusPageConfig(r.Bool("statusPage:actions", false));
        r.ThrowIfAny();
        return new CdcConfig(address, maxTaskNum, maxNameLength, maxRequestBytes, metaStore, source)
        {
            CertificatesDir = certificatesDir,
            ApiAuth = apiAuth,
            ApiTls = apiTls,
            StatusPage = statusPage,
            TaskStartsPerSecond = taskStartsPerSecond,
        };
    }

    /// <summary>The shortest API token accepted: shorter ones are too easy to guess.</summary>
    public const int MinApiTokenLength = 16;

    private static string CertificatesDir(Reader r)
    {
        var raw = r.String("certificatesDir", "certs");
        try
        {
            var full = Path.GetFullPath(raw);
            if (File.Exists(full)) r.Problem("certificatesDir", $"'{raw}' is a file, not a folder");
            return full;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            r.Problem("certificatesDir", $"'{raw}' is not a folder path");
            return raw;
        }
    }

    private static ApiAuthConfig ApiAuth(Reader r)
    {
        var tokens = r.List("apiAuth:tokens", []);
        for (var i = 0; i < tokens.Count; i++)
        {
            // The value is a secret: problems describe it, never show it.
            if (tokens[i].Length < MinApiTokenLength)
                r.Problem($"apiAuth:tokens:{i}", $"must be at least {MinApiTokenLength} characters (a random value, e.g. from `openssl rand -hex 32`)");
            else if (!tokens[i].All(c => c is > ' ' and <= '~'))
                r.Problem($"apiAuth:tokens:{i}", "may only hold visible ASCII characters (no spaces), as an HTTP header carries it");
        }
        var protectMetrics = r.Bool("apiAuth:protectMetrics", false);
        if (protectMetrics && tokens.Count == 0)
            r.Problem("apiAuth:protectMetrics", "is true, so apiAuth.tokens must name at least one token");
        return tokens.Count == 0 && !protectMetrics ? ApiAuthConfig.Off : new ApiAuthConfig(tokens, protectMetrics);
    }

    private static ApiTlsConfig? ApiTls(Reader r)
    {
        var certPath = r.OptionalString("apiTls:certPath");
        var keyPath = r.OptionalString("apiTls:keyPath");
        if (certPath is null && keyPath is null) return null;
        if (certPath is null || keyPath is null)
        {
            r.Problem(certPath is null ? "apiTls:certPath" : "apiTls:keyPath", "apiTls needs both certPath and keyPath (PEM files)");
            return null;
        }
        try
        {
            using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certPath, keyPath);
            if (!certificate.HasPrivateKey) r.Problem("apiTls:keyPath", $"'{keyPath}' holds no private key of the certificate in '{certPath}'");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            r.Problem("apiTls:certPath", $"cannot load the certificate '{certPath}' with the key '{keyPath}': {ex.Message}");
        }
        return new ApiTlsConfig(certPath, keyPath);
    }

    private static Dictionary<string, string?> FlattenYaml(string yaml)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count > 0) Walk(stream.Documents[0].RootNode, "", result);
        return result;
    }

    private static void Walk(YamlNode node, string prefix, Dictionary<string, string?> into)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                    Walk(v, prefix.Length == 0 ? ((YamlScalarNode)k).Value! : $"{prefix}:{((YamlScalarNode)k).Value}", into);
                break;
            case YamlSequenceNode seq:
                for (var i = 0; i < seq.Children.Count; i++) Walk(seq.Children[i], $"{prefix}:{i}", into);
                break;
            case YamlScalarNode scalar:
                into[prefix] = scalar.Value is null or "~" || (scalar.Style == ScalarStyle.Plain && scalar.Value is "null" or "") ? null : scalar.Value;
                break;
        }
    }

    [GeneratedRegex(@"^[^\s:]*:\d+$|^\[[0-9a-fA-F:]+\]:\d+$")]
    private static partial Regex AddressPattern();

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex IdentifierPattern();

    /// <summary>Typed reads that collect a problem per bad key instead of failing on the first.</summary>
    private sealed class Reader(IConfiguration c)
    {
        private readonly List<string> _problems = [];

        public void Problem(string key, string problem) => _problems.Add($"{key.Replace(':', '.')}: {problem}");

        public void ThrowIfAny()
        {
            if (_problems.Count > 0) throw new ConfigurationError(_problems);
        }

        public string? OptionalString(string key) => c[key] is { Length: > 0 } v ? v : null;

        public string String(string key, string fallback) => OptionalString(key) ?? fallback;

        public int Int(string key, int fallback, int min)
        {
            var raw = OptionalString(key);
            if (raw is null) return fallback;
            if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                Problem(key, $"expected a whole number, got '{raw}'");
                return fallback;
            }
            if (value < min) Problem(key, $"must be at least {min}, got {value}");
            return value;
        }

        public bool Bool(string key, bool fallback)
        {
            var raw = OptionalString(key);
            if (raw is null) return fallback;
            if (bool.TryParse(raw, out var value)) return value;
            Problem(key, $"expected true or false, got '{raw}'");
            return fallback;
        }

        public IReadOnlyList<string> List(string key, IReadOnlyList<string> fallback)
        {
            var section = c.GetSection(key);
            var items = section.GetChildren().OrderBy(s => int.TryParse(s.Key, out var i) ? i : int.MaxValue)
                .Select(s => s.Value).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToList();
            if (items.Count > 0) return items;
            return section.Value is { Length: > 0 } single ? single.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : fallback;
        }

        public IReadOnlyDictionary<string, string> Map(string key) =>
            c.GetSection(key).GetChildren().Where(s => s.Value is not null).ToDictionary(s => s.Key, s => s.Value!);
    }
}
