using Cdc.Infrastructure.Configuration;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Configuration;

public sealed class CdcConfigLoaderTests
{
    private static string Write(string yaml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cdc-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void The_shipped_config_loads_with_the_seed_values()
    {
        var config = CdcConfigLoader.Load(RepositoryRoot.File_("configs/cdc.yaml"));
        Assert.Equal(("0.0.0.0", 8444), config.ListenEndpoint);
        Assert.Equal((100, 256, 50), (config.MaxTaskNum, config.MaxNameLength, config.TaskStartsPerSecond));
        Assert.Equal(("postgres", "cdc", "cdc"), (config.MetaStore.StoreType, config.MetaStore.RootPath, config.MetaStore.Schema));
        Assert.Equal(["http://127.0.0.1:2379"], config.Source.Etcd.Address);
        Assert.Equal(("by-dev", "meta", "1.3"), (config.Source.Etcd.RootPath, config.Source.Etcd.MetaSubPath, config.Source.Etcd.TlsMinVersion));
        Assert.Equal(("by-dev-replicate-msg", "_default", 4), (config.Source.ReplicateChan, config.Source.DefaultPartitionName, config.Source.ReadChanLen));
        Assert.Equal("127.0.0.1:9092", config.Source.Kafka.Address);
        Assert.Null(config.Source.Pulsar.Address);
        Assert.Equal(("public", "default", 5242880), (config.Source.Pulsar.Tenant, config.Source.Pulsar.Namespace, config.Source.Pulsar.MaxMessageSize));
    }

    [Fact]
    public void Overrides_and_environment_variables_win_over_the_file()
    {
        var path = RepositoryRoot.File_("configs/cdc.yaml");
        var config = CdcConfigLoader.Load(path, [new("maxTaskNum", "7"), new("metaStoreConfig:rootPath", "tenant-x"), new("SOURCECONFIG:ETCD:ADDRESS:0", "http://10.0.0.1:2379")]);
        Assert.Equal((7, "tenant-x"), (config.MaxTaskNum, config.MetaStore.RootPath));
        Assert.Equal(["http://10.0.0.1:2379"], config.Source.Etcd.Address);

        Environment.SetEnvironmentVariable("CDC_maxNameLength", "99");
        try { Assert.Equal(99, CdcConfigLoader.Load(path).MaxNameLength); }
        finally { Environment.SetEnvironmentVariable("CDC_maxNameLength", null); }
    }

    [Theory]
    [InlineData("maxTaskNum: ten", "maxTaskNum: expected a whole number, got 'ten'")]
    [InlineData("maxTaskNum: 0", "maxTaskNum: must be at least 1")]
    [InlineData("taskStartsPerSecond: 0", "taskStartsPerSecond: must be at least 1")]
    [InlineData("address: 8444", "address: expected host:port")]
    [InlineData("address: 0.0.0.0:99999", "address: expected host:port with a port from 1 to 65535")]
    [InlineData("metaStoreConfig:\n  storeType: mysql", "metaStoreConfig.storeType: 'mysql' is not supported")]
    [InlineData("metaStoreConfig:\n  postgres:\n    connectionString: ''", "metaStoreConfig.postgres.connectionString: is required")]
    [InlineData("metaStoreConfig:\n  postgres:\n    connectionString: 'Bogus Key=1'", "metaStoreConfig.postgres.connectionString: is not a valid connection string")]
    [InlineData("metaStoreConfig:\n  postgres:\n    schema: 'Drop Table'", "metaStoreConfig.postgres.schema: must be a lowercase SQL identifier")]
    [InlineData("sourceConfig:\n  replicateChan: ''", "sourceConfig.replicateChan: is required")]
    [InlineData("sourceConfig:\n  kafka:\n    address: ''", "sourceConfig.kafka.address: set the source's message queue")]
    [InlineData("sourceConfig:\n  etcd:\n    enableTLS: maybe", "sourceConfig.etcd.enableTLS: expected true or false, got 'maybe'")]
    [InlineData("sourceConfig:\n  etcd:\n    enableAuth: true\n    username: ''", "sourceConfig.etcd.username: enableAuth is true")]
    [InlineData("maxTaskNum: [1", ": not valid YAML at line ")]
    public void A_bad_value_stops_start_up_with_a_message_naming_the_key(string yaml, string expected)
    {
        const string valid = """
            metaStoreConfig:
              postgres:
                connectionString: Host=127.0.0.1;Database=cdc
            sourceConfig:
              replicateChan: by-dev-replicate-msg
              kafka:
                address: 127.0.0.1:9092
            """;
        var path = Write(yaml);
        var merged = Write(valid);
        try
        {
            // The valid base, with the bad key applied on top as an override (or the bad file itself for syntax errors).
            var error = Assert.Throws<ConfigurationError>(() =>
                yaml.Contains('[') ? CdcConfigLoader.Load(path) : CdcConfigLoader.Load(merged, Flatten(yaml)));
            Assert.Contains(expected, error.Message);
        }
        finally { File.Delete(path); File.Delete(merged); }
    }

    [Fact]
    public void Every_bad_key_is_reported_at_once()
    {
        var path = Write("address: nowhere\nmaxTaskNum: -1\nmetaStoreConfig:\n  storeType: etcd\nsourceConfig:\n  replicateChan: x\n  kafka:\n    address: k:1\n");
        try
        {
            var error = Assert.Throws<ConfigurationError>(() => CdcConfigLoader.Load(path));
            Assert.Equal(4, error.Problems.Count); // address, maxTaskNum, storeType, connectionString
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var error = Assert.Throws<ConfigurationError>(() => CdcConfigLoader.Load("/nonexistent/cdc.yaml"));
        Assert.Contains("/nonexistent/cdc.yaml: not found", error.Message);
    }

    /// <summary>A small YAML snippet as override keys (two levels of nesting at most).</summary>
    private static IEnumerable<KeyValuePair<string, string?>> Flatten(string yaml)
    {
        var stack = new List<(int Indent, string Key)>();
        foreach (var line in yaml.Split('\n'))
        {
            var indent = line.Length - line.TrimStart().Length;
            var (key, value) = (line.Trim().Split(':', 2)[0], line.Trim().Split(':', 2)[1].Trim());
            stack.RemoveAll(s => s.Indent >= indent);
            var full = string.Join(":", stack.Select(s => s.Key).Append(key));
            if (value.Length == 0) stack.Add((indent, key));
            else yield return new(full, value.Trim('\''));
        }
    }
}
