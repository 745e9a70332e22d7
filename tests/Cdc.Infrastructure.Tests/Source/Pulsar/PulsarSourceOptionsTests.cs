using Cdc.Infrastructure.Configuration;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Source.Pulsar;

public sealed class PulsarSourceOptionsTests
{
    [Fact]
    public void The_pulsar_keys_of_cdc_yaml_become_the_reader_options()
    {
        var config = CdcConfigLoader.Load(RepositoryRoot.File_("configs/cdc.yaml"),
        [
            new("sourceConfig:pulsar:address", "pulsar+ssl://broker-1:6651,broker-2:6651"),
            new("sourceConfig:pulsar:tenant", "milvus"),
            new("sourceConfig:pulsar:namespace", "prod"),
            new("sourceConfig:pulsar:maxMessageSize", "1048576"),
            new("sourceConfig:pulsar:authPlugin", PulsarAuthentication.TokenPluginClass),
            new("sourceConfig:pulsar:authParams", "token:abc"),
            new("sourceConfig:pulsar:tlsTrustCertsFilePath", "/etc/pulsar/ca.pem"),
            new("sourceConfig:readChanLen", "8"),
            new("sourceConfig:readBufferBytes", "1000000"),
        ]);

        var options = PulsarSourceOptions.FromConfig(config.Source);

        Assert.Equal("persistent://milvus/prod/by-dev-rootcoord-dml_3", options.TopicOf("by-dev-rootcoord-dml_3"));
        Assert.Equal((1048576, 8, 1000000L), (options.MaxMessageSize, options.ReadAhead, options.ReadBufferBytes));
        Assert.Equal(("/etc/pulsar/ca.pem", "token:abc"), (options.TlsTrustCertsFilePath, options.AuthParams));
        Assert.Equal(
            [new PulsarBrokerAddress("broker-1", 6651, true), new PulsarBrokerAddress("broker-2", 6651, true)],
            PulsarBrokerAddress.ParseServiceUrl(options.ServiceUrl));
    }

    [Theory]
    [InlineData("pulsar://broker", "broker", 6650, false)]
    [InlineData("pulsar+ssl://broker", "broker", 6651, true)]
    [InlineData("pulsar://[::1]:7000/", "::1", 7000, false)]
    public void Service_urls_take_default_ports_and_ipv6_hosts(string url, string host, int port, bool tls)
    {
        Assert.Equal(new PulsarBrokerAddress(host, port, tls), Assert.Single(PulsarBrokerAddress.ParseServiceUrl(url)));
    }

    [Fact]
    public void Token_auth_params_are_read_as_Milvus_reads_them()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, " from-file \n");
        try
        {
            Assert.Equal("abc", System.Text.Encoding.UTF8.GetString(PulsarAuthentication.FromConfig("token", "token:abc").Data()));
            Assert.Equal("from-file", System.Text.Encoding.UTF8.GetString(PulsarAuthentication.FromConfig("token", $"file:{file}").Data()));
            Assert.Null(PulsarAuthentication.FromConfig(null, "token:abc").MethodName);
            Assert.Equal("token", PulsarAuthentication.FromConfig(PulsarAuthentication.TokenPluginClass, "other:x,token:abc").MethodName);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
