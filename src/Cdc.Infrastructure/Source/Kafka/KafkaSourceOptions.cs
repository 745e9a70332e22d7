using Confluent.Kafka;

namespace Cdc.Infrastructure.Source.Kafka;

/// <summary>The source Milvus' Kafka: the keys of <c>sourceConfig.kafka</c> in cdc.yaml.</summary>
public sealed record KafkaSourceOptions
{
    /// <summary>Bootstrap servers, <c>host:port[,host:port…]</c>.</summary>
    public required string Address { get; init; }

    public string? SaslUsername { get; init; }
    public string? SaslPassword { get; init; }

    /// <summary>e.g. PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.</summary>
    public string? SaslMechanisms { get; init; }

    /// <summary>e.g. SASL_PLAINTEXT, SASL_SSL.</summary>
    public string? SecurityProtocol { get; init; }

    /// <summary>Extra librdkafka consumer settings (<c>sourceConfig.kafka.consumer</c>), applied as given.</summary>
    public IReadOnlyDictionary<string, string> Consumer { get; init; } = new Dictionary<string, string>();

    /// <summary>Time limit for the broker round trips of opening a reader (watermarks, metadata).</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Messages a reader holds for its caller (<c>sourceConfig.readChanLen</c>, at least 1).</summary>
    public int ReadAhead { get; init; } = 256;

    /// <summary>
    /// Bytes a reader holds for its caller (<c>sourceConfig.readBufferBytes</c>); librdkafka's own prefetch queue of
    /// the channel is capped at the same size, so a channel holds at most about twice this.
    /// </summary>
    public long ReadBufferBytes { get; init; } = 16L << 20;

    /// <summary>
    /// The consumer settings for one channel reader: partition 0 is assigned directly (no subscription), and no
    /// offset is committed or stored: the CDC server keeps the positions itself.
    /// </summary>
    public ConsumerConfig ToConsumerConfig()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = Address,
            // Required by the client even without a subscription; unique so that no group state is shared.
            GroupId = $"cdc-source-{Guid.NewGuid():N}",
            // A position that is gone (retention deleted it while the reader was behind) is an error, never a silent
            // jump to the oldest or newest message kept: the reader fails and the task pauses naming the lost range.
            AutoOffsetReset = AutoOffsetReset.Error,
            AllowAutoCreateTopics = true,
            EnablePartitionEof = false,
            // librdkafka prefetches up to 64 MiB per partition by default: hold it to the reader's own cap, which bounds
            // memory. The number of messages it keeps fetching ahead stays at librdkafka's default (100000): tied to
            // readChanLen (4) it made librdkafka fetch about 8 messages a second while a backlog waited.
            QueuedMaxMessagesKbytes = (int)Math.Clamp(ReadBufferBytes / 1024, 1, 2097151),
            QueuedMinMessages = 100_000,
        };
        if (!string.IsNullOrEmpty(SecurityProtocol)) config.Set("security.protocol", SecurityProtocol);
        if (!string.IsNullOrEmpty(SaslMechanisms)) config.Set("sasl.mechanisms", SaslMechanisms);
        if (!string.IsNullOrEmpty(SaslUsername)) config.Set("sasl.username", SaslUsername);
        if (!string.IsNullOrEmpty(SaslPassword)) config.Set("sasl.password", SaslPassword);
        foreach (var (key, value) in Consumer) config.Set(key, value);
        // Never hand positions to the broker, whatever the extra settings say.
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.AutoOffsetReset = AutoOffsetReset.Error;
        return config;
    }
}
