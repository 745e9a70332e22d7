using Cdc.Infrastructure.Source.Kafka;


namespace Cdc.Testing;

/// <summary>The mock Kafka cluster scripts/test.sh started, and a topic of its own for each test.</summary>
public static class KafkaTestBroker
{
    public static string Bootstrap => TestEnvironment.Require("CDC_TEST_KAFKA");

    public static KafkaSourceChannels Channels() => new(new KafkaSourceOptions { Address = Bootstrap });

    public static KafkaTestProducer Producer() => new(Bootstrap);

    public static string UniqueTopic(string test) => $"cdc-test-{test}-{Guid.NewGuid():N}";

    public static CancellationToken Deadline(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}
