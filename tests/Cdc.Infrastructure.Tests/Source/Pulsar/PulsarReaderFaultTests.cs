using Cdc.Application.Replication.Source;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.FakePulsar;
using static Cdc.Testing.FakePulsar.PulsarTestSource;
using LookupType = Cdc.Infrastructure.Source.Pulsar.Protos.CommandLookupTopicResponse.Types.LookupType;

namespace Cdc.Infrastructure.Tests.Source.Pulsar;

/// <summary>The reader against what a real deployment does to it: flow control, lookups, TLS and tokens, brokers going away, bad bytes.</summary>
public sealed class PulsarReaderFaultTests
{
    [Fact]
    public async Task A_reader_nobody_takes_from_holds_at_most_its_byte_cap_the_broker_sends_no_more_and_everything_arrives_in_order()
    {
        var ct = Deadline(60);
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("capped");
        const int size = 100_000;
        broker.Topic(TopicOf(channel)).Append(
            Enumerable.Range(0, 30).Select(i => new PulsarTestMessage(Enumerable.Repeat((byte)i, size).ToArray())).ToList(), PulsarEntryFormat.Milvus);

        await using var reader = await Channels(broker, o => o with { ReadAhead = 20, ReadBufferBytes = 350_000 })
            .OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);

        // Nobody reads: permits stop at what fits (3 whole messages) and the broker sends nothing more.
        await Until(() => reader.BufferedMessages >= 3, ct);
        await Task.Delay(500, ct);
        Assert.Equal(3, reader.BufferedMessages);
        Assert.Equal(3 * size, reader.BufferedBytes);
        Assert.Equal(3, broker.MessagesDispatched);

        var read = await ReadAsync(reader, 30, ct);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (byte)i), read.Select(m => m.Payload.Span[0]));
        Assert.Equal(30, broker.MessagesDispatched);
    }

    [Fact]
    public async Task The_message_cap_holds_when_the_messages_are_small()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("capped-small");
        broker.Topic(TopicOf(channel)).Append(Messages("m", 50), PulsarEntryFormat.Milvus);

        await using var reader = await Channels(broker, o => o with { ReadAhead = 4 })
            .OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);
        await Until(() => reader.BufferedMessages >= 4, ct);
        await Task.Delay(500, ct);

        Assert.Equal(4, reader.BufferedMessages);
        Assert.Equal(4, broker.MessagesDispatched);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}"), (await ReadAsync(reader, 50, ct)).Select(m => Text(m.Payload)));
    }

    [Fact]
    public async Task A_lookup_redirected_to_another_broker_is_followed_and_the_topic_is_read_there()
    {
        var ct = Deadline();
        var cluster = new FakePulsarCluster();
        await using var owner = FakePulsarBroker.Start(cluster: cluster);
        await using var service = FakePulsarBroker.Start(new FakePulsarOptions
        {
            // Not the owner: it redirects (not yet authoritative), and the owner then answers Connect.
            Lookup = (_, authoritative) => new FakeLookupAnswer(LookupType.Redirect, owner.ServiceUrl, Authoritative: true),
        }, cluster);
        var channel = UniqueChannel("redirect");
        cluster.Assign(TopicOf(channel), owner);
        owner.Topic(TopicOf(channel)).Append([Message("at the owner")], PulsarEntryFormat.Milvus);

        await using var reader = await Channels(service).OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);

        Assert.Equal("at the owner", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));
        Assert.Empty(service.Subscribes);
        Assert.Equal(TopicOf(channel), Assert.Single(owner.Subscribes).Topic);
    }

    [Fact]
    public async Task A_lookup_answering_proxy_through_service_url_connects_through_the_service_url_to_the_named_broker()
    {
        var ct = Deadline();
        var cluster = new FakePulsarCluster();
        await using var owner = FakePulsarBroker.Start(cluster: cluster);
        await using var proxy = FakePulsarBroker.Start(new FakePulsarOptions
        {
            Lookup = (_, _) => new FakeLookupAnswer(LookupType.Connect, owner.ServiceUrl, ProxyThroughServiceUrl: true),
        }, cluster);
        var channel = UniqueChannel("proxy");
        cluster.Assign(TopicOf(channel), owner);
        owner.Topic(TopicOf(channel)).Append([Message("through the proxy")], PulsarEntryFormat.Milvus);

        await using var reader = await Channels(proxy).OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);

        Assert.Equal("through the proxy", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));
        Assert.Contains(proxy.Connects, c => c.ProxyToBrokerUrl == owner.ServiceUrl);
        Assert.Single(owner.Subscribes);
        Assert.Empty(proxy.Subscribes);
    }

    [Fact]
    public async Task Tls_with_a_trusted_authority_and_a_token_from_the_config_or_a_file_reads_the_topic()
    {
        var ct = Deadline();
        using var authority = new TestCertificateAuthority("pulsar-test-ca");
        const string token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjZGMifQ.c2lnbmF0dXJl";
        await using var broker = FakePulsarBroker.Start(new FakePulsarOptions
        {
            ServerCertificate = authority.IssueServer("localhost").Certificate,
            RequiredToken = token,
        });
        var channel = UniqueChannel("tls");
        broker.Topic(TopicOf(channel)).Append([Message("secret")], PulsarEntryFormat.Milvus);
        var tokenFile = Path.Combine(authority.Directory, "token.txt");
        await File.WriteAllTextAsync(tokenFile, token + "\n", ct);

        foreach (var authParams in new[] { $"token:{token}", $"file:{tokenFile}" })
        {
            await using var reader = await Channels(broker, o => o with
            {
                AuthPlugin = PulsarAuthentication.TokenPluginClass,
                AuthParams = authParams,
                TlsTrustCertsFilePath = authority.CertificatePemPath,
            }).OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);
            Assert.Equal("secret", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));
        }

        Assert.StartsWith("pulsar+ssl://", broker.ServiceUrl);
        Assert.All(broker.Connects, c => Assert.Equal(("token", token), (c.AuthMethodName, c.AuthData.ToStringUtf8())));
    }

    [Fact]
    public async Task A_wrong_token_or_an_untrusted_certificate_fails_the_open_clearly_without_showing_the_token()
    {
        var ct = Deadline();
        using var authority = new TestCertificateAuthority("pulsar-test-ca");
        using var stranger = new TestCertificateAuthority("someone-else");
        await using var broker = FakePulsarBroker.Start(new FakePulsarOptions
        {
            ServerCertificate = authority.IssueServer("localhost").Certificate,
            RequiredToken = "the-right-token",
        });
        var channel = UniqueChannel("refused");

        var wrongToken = await Assert.ThrowsAsync<SourceChannelException>(() => Channels(broker, o => o with
        {
            AuthPlugin = "token", AuthParams = "token:the-wrong-token", TlsTrustCertsFilePath = authority.CertificatePemPath,
        }).OpenReaderAsync(channel, SourceChannelStart.Latest, ct));
        var untrusted = await Assert.ThrowsAsync<SourceChannelException>(() => Channels(broker, o => o with
        {
            AuthPlugin = "token", AuthParams = "token:the-right-token", TlsTrustCertsFilePath = stranger.CertificatePemPath,
        }).OpenReaderAsync(channel, SourceChannelStart.Latest, ct));

        Assert.Contains($"fail to read the source channel {channel}", wrongToken.Message);
        Assert.Contains("AuthenticationError", wrongToken.Message);
        Assert.DoesNotContain("the-wrong-token", wrongToken.ToString());
        Assert.Contains("TLS handshake", untrusted.Message);
    }

    [Fact]
    public void Settings_that_cannot_work_are_refused_at_once_naming_the_key()
    {
        Assert.Contains("sourceConfig.pulsar.authPlugin: 'org.apache.pulsar.client.impl.auth.AuthenticationTls' is not supported",
            Assert.Throws<ArgumentException>(() => new PulsarSourceChannels(Options("pulsar://127.0.0.1:6650") with
            {
                AuthPlugin = "org.apache.pulsar.client.impl.auth.AuthenticationTls",
            })).Message);
        Assert.Contains("sourceConfig.pulsar.authParams: token authentication needs token:<token> or file:<path",
            Assert.Throws<ArgumentException>(() => new PulsarSourceChannels(Options("pulsar://127.0.0.1:6650") with
            {
                AuthPlugin = "token", AuthParams = "{\"token\":\"abc\"}",
            })).Message);
        Assert.Contains("sourceConfig.pulsar.address: 'http://127.0.0.1:6650' is not a Pulsar service URL",
            Assert.Throws<ArgumentException>(() => new PulsarSourceChannels(Options("http://127.0.0.1:6650"))).Message);
        Assert.Contains("sourceConfig.pulsar.tlsTrustCertsFilePath: cannot read /nonexistent/ca.pem",
            Assert.Throws<ArgumentException>(() => new PulsarSourceChannels(Options("pulsar+ssl://127.0.0.1:6651") with
            {
                TlsTrustCertsFilePath = "/nonexistent/ca.pem",
            })).Message);
    }

    [Fact]
    public async Task An_answer_to_an_authentication_challenge_carries_the_token_again()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start(new FakePulsarOptions { RequiredToken = "tok" });
        var channel = UniqueChannel("challenge");
        await using var reader = await Channels(broker, o => o with { AuthPlugin = "token", AuthParams = "token:tok" })
            .OpenReaderAsync(channel, SourceChannelStart.Latest, ct);

        await broker.ChallengeAuthenticationAsync();
        await Until(() => broker.AuthResponses.Count > 0, ct);

        Assert.Equal(("token", "tok"), (broker.AuthResponses[0].Response.AuthMethodName, broker.AuthResponses[0].Response.AuthData_.ToStringUtf8()));
    }

    [Theory]
    [InlineData("close-consumer")]
    [InlineData("drop-connection")]
    public async Task After_the_broker_closes_the_consumer_or_drops_the_connection_reading_resumes_without_loss_or_repetition(string fault)
    {
        var ct = Deadline(60);
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("reconnect");
        var topic = broker.Topic(TopicOf(channel));
        topic.Append(Messages("a", 10), PulsarEntryFormat.Milvus);
        topic.Append(Messages("batch", 4), PulsarEntryFormat.Batch(CompressionType.Zstd));
        await using var reader = await Channels(broker, o => o with { ReadAhead = 4 })
            .OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);
        await using var messages = reader.ReadAllAsync(ct).GetAsyncEnumerator(ct);
        var read = new List<string>();

        for (var i = 0; i < 6; i++)
        {
            await messages.MoveNextAsync();
            read.Add(Text(messages.Current.Payload));
        }

        if (fault == "close-consumer") await broker.CloseConsumersAsync(topic.Name);
        else broker.DropConnections();
        topic.Append(Messages("b", 5), PulsarEntryFormat.Plain(CompressionType.Snappy));
        topic.Append([Message("end")], PulsarEntryFormat.Milvus);
        while (read.LastOrDefault() != "end")
        {
            await messages.MoveNextAsync();
            read.Add(Text(messages.Current.Payload));
        }

        // Every message once, in order: what the reader had queued when the broker went away is not read twice.
        Assert.Equal(
            Enumerable.Range(0, 10).Select(i => $"a{i}").Concat(Enumerable.Range(0, 4).Select(i => $"batch{i}"))
                .Concat(Enumerable.Range(0, 5).Select(i => $"b{i}")).Append("end"),
            read);
        Assert.Equal(2, broker.Subscribes.Count);
        // The second subscription starts at the last message the reader had queued, after what it had handed over.
        Assert.True(broker.Subscribes[1].StartMessageId.EntryId >= 5, $"resubscribed at entry {broker.Subscribes[1].StartMessageId.EntryId}");
    }

    [Theory]
    [InlineData(FakePulsarFault.WrongChecksum, "checksum mismatch in MESSAGE {0}")]
    [InlineData(FakePulsarFault.CorruptFrame, "malformed frame MESSAGE {0}: magic number 0x0bad where 0x0e01 was expected")]
    [InlineData(FakePulsarFault.UnknownCommand, "sent command type 99")]
    public async Task Bad_bytes_from_the_broker_end_the_reading_with_an_error_naming_the_channel_and_position_after_the_good_messages(
        FakePulsarFault fault, string expected)
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("bad");
        var topic = broker.Topic(TopicOf(channel));
        var good = topic.Append(Messages("good", 2), PulsarEntryFormat.Milvus);
        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);
        var read = await ReadAsync(reader, 2, ct);
        broker.InjectFault(topic.Name, fault);
        var bad = topic.Append([Message("bad")], PulsarEntryFormat.Milvus)[0];

        var error = await Assert.ThrowsAsync<SourceChannelException>(async () => await reader.ReadAllAsync(ct).ToListAsync(ct));

        Assert.Equal(["good0", "good1"], read.Select(m => Text(m.Payload)));
        Assert.Equal(channel, error.Channel);
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, $"{bad.LedgerId}:{bad.EntryId}"), error.Message);
        Assert.Contains($"last message read: {Id(good[1], 0)}", error.Message);
        Assert.IsType<PulsarProtocolException>(error.InnerException);
    }

    [Fact]
    public async Task A_message_over_maxMessageSize_ends_the_reading_with_an_error_naming_it()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("oversized");
        var topic = broker.Topic(TopicOf(channel));
        await using var reader = await Channels(broker, o => o with { MaxMessageSize = 4096 })
            .OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);
        var big = topic.Append([new PulsarTestMessage(new byte[20_000])], PulsarEntryFormat.Plain())[0];

        var error = await Assert.ThrowsAsync<SourceChannelException>(async () => await reader.ReadAllAsync(ct).ToListAsync(ct));

        Assert.Contains($"fail to read the source channel {channel}: MESSAGE {big.LedgerId}:{big.EntryId} of ", error.Message);
        Assert.Contains($"larger than the largest frame taken ({4096 + PulsarFrames.FramePadding} bytes: maxMessageSize plus", error.Message);
    }

    [Fact]
    public async Task An_entry_whose_payload_does_not_decompress_ends_the_reading_with_an_error_naming_its_position()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("undecodable");
        var topic = broker.Topic(TopicOf(channel));
        var metadata = PlainMetadata();
        metadata.Compression = CompressionType.Zstd;
        metadata.UncompressedSize = 100;
        metadata.NumMessagesInBatch = 1;
        var entry = topic.Append(metadata, [1, 2, 3, 4, 5, 6, 7, 8]);
        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);

        var error = await Assert.ThrowsAsync<SourceChannelException>(async () => await reader.ReadAllAsync(ct).ToListAsync(ct));

        Assert.Contains($"cannot read the message at {Id(entry)}: cannot decompress the ZSTD payload", error.Message);
    }

    [Fact]
    public async Task The_reader_answers_the_brokers_ping_and_pings_a_quiet_broker_itself()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("ping");
        // 3 s, not shorter: a broker silent for two intervals is given up, and under the full suite's load a 200 ms
        // interval, and once a 1 s one, made a late pong look like a dead broker (a second subscribe).
        await using var reader = await Channels(broker, o => o with { KeepAliveInterval = TimeSpan.FromSeconds(3) })
            .OpenReaderAsync(channel, SourceChannelStart.Latest, ct);

        await broker.PingClientsAsync();
        await Until(() => broker.PongsReceived >= 1 && broker.PingsReceived >= 1, ct);

        broker.Topic(TopicOf(channel)).Append([Message("still reading")], PulsarEntryFormat.Milvus);
        Assert.Equal("still reading", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));
        Assert.Single(broker.Subscribes);
    }

    [Fact]
    public async Task A_broker_that_stops_answering_is_given_up_after_two_keep_alive_intervals_and_reading_resumes_on_a_new_connection()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("silent");
        var topic = broker.Topic(TopicOf(channel));
        var first = topic.Append([Message("before")], PulsarEntryFormat.Milvus)[0];
        await using var reader = await Channels(broker, o => o with { KeepAliveInterval = TimeSpan.FromMilliseconds(200) })
            .OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);
        Assert.Equal("before", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));

        broker.AnswerPings(false);
        await Until(() => broker.Subscribes.Count >= 2, ct);
        broker.AnswerPings(true);
        topic.Append([Message("after")], PulsarEntryFormat.Milvus);

        Assert.Equal("after", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));
        Assert.Equal((first.LedgerId, first.EntryId, 0), ((long)broker.Subscribes[1].StartMessageId.LedgerId, (long)broker.Subscribes[1].StartMessageId.EntryId,
            broker.Subscribes[1].StartMessageId.BatchIndex));
    }

    [Fact]
    public async Task A_broker_that_stays_away_ends_the_reading_after_the_reconnect_timeout_with_the_last_position()
    {
        var ct = Deadline();
        var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("gone");
        var last = broker.Topic(TopicOf(channel)).Append([Message("last")], PulsarEntryFormat.Milvus)[0];
        await using var reader = await Channels(broker, o => o with { ReconnectTimeout = TimeSpan.FromSeconds(1) })
            .OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);
        Assert.Equal("last", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));

        await broker.DisposeAsync();
        var error = await Assert.ThrowsAsync<SourceChannelException>(async () => await reader.ReadAllAsync(ct).ToListAsync(ct));

        // The time waited is the reconnect timeout or a little more: under the full suite's load it was once 1.5 s,
        // written "2 s".
        Assert.Matches($@"no connection to the topic's broker for [1-9][0-9]* s \(last message read: {System.Text.RegularExpressions.Regex.Escape(Id(last, 0).ToString())}\)", error.Message);
    }
}
