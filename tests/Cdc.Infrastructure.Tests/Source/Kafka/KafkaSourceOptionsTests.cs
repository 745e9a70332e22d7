using Cdc.Application.Replication.Source;
using Cdc.Infrastructure.Source.Kafka;


namespace Cdc.Infrastructure.Tests.Source.Kafka;

public sealed class KafkaSourceOptionsTests
{
    [Fact]
    public void Sasl_settings_and_extra_consumer_keys_reach_librdkafka_but_positions_are_never_committed()
    {
        var config = new KafkaSourceOptions
        {
            Address = "k1:9092,k2:9092",
            SaslUsername = "user",
            SaslPassword = "pass",
            SaslMechanisms = "SCRAM-SHA-512",
            SecurityProtocol = "SASL_SSL",
            Consumer = new Dictionary<string, string> { ["fetch.max.bytes"] = "1048576", ["enable.auto.commit"] = "true" },
        }.ToConsumerConfig();
        var settings = config.ToDictionary(kv => kv.Key, kv => kv.Value);

        Assert.Equal("k1:9092,k2:9092", settings["bootstrap.servers"]);
        Assert.Equal("user", settings["sasl.username"]);
        Assert.Equal("pass", settings["sasl.password"]);
        Assert.Equal("SCRAM-SHA-512", settings["sasl.mechanisms"]);
        Assert.Equal("SASL_SSL", settings["security.protocol"]);
        Assert.Equal("1048576", settings["fetch.max.bytes"]);
        Assert.False(config.EnableAutoCommit); // stored as "False"; librdkafka reads booleans case-insensitively
        Assert.False(config.EnableAutoOffsetStore);
        Assert.StartsWith("cdc-source-", settings["group.id"]);
    }

    [Fact]
    public async Task Opening_a_reader_on_an_unreachable_broker_fails_with_a_source_channel_error()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var channels = new KafkaSourceChannels(new KafkaSourceOptions
        {
            Address = "127.0.0.1:1", // nothing listens on port 1
            OpenTimeout = TimeSpan.FromSeconds(1),
        });

        var error = await Assert.ThrowsAsync<SourceChannelException>(() =>
            channels.OpenReaderAsync("by-dev-rootcoord-dml_0", SourceChannelStart.Latest, cts.Token));

        Assert.Equal("by-dev-rootcoord-dml_0", error.Channel);
    }
}

public sealed class KafkaNativeLibraryTests
{
    [Fact]
    public void The_native_librdkafka_is_the_one_of_the_librdkafka_redist_package()
    {
        // Confluent.Kafka loads whichever librdkafka it finds first; the project ships librdkafka.redist 2.16.0, so the
        // version the native library reports must be that one, not an operating system copy.
        var version = typeof(Confluent.Kafka.Library).Assembly.GetName().Version!;
        Assert.Equal(2, version.Major);
        Assert.StartsWith("2.16.", Confluent.Kafka.Library.VersionString);
    }
}
