using System.Buffers.Binary;
using System.Text;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Google.Protobuf;
using CommandType = Cdc.Infrastructure.Source.Pulsar.Protos.BaseCommand.Types.Type;

namespace Cdc.Infrastructure.Tests.Source.Pulsar;

/// <summary>
/// Frames, checksums, codecs and batch layout against bytes worked out by hand from the Pulsar protocol documentation
/// and PulsarApi.proto (tag = field number &lt;&lt; 3 | wire type), so a wrong field number or layout fails here.
/// </summary>
public sealed class PulsarWireFormatTests
{
    [Fact]
    public void Crc32c_gives_the_published_check_value()
    {
        // The CRC-32C check value of "123456789" (RFC 3720, appendix B.4 lists CRC32C examples; 0xE3069283 is the standard check).
        Assert.Equal(0xE3069283u, PulsarChecksum.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, PulsarChecksum.Compute([]));
    }

    [Fact]
    public void A_simple_command_is_total_size_command_size_and_the_BaseCommand()
    {
        var ping = PulsarFrames.Simple(new BaseCommand { Type = CommandType.Ping, Ping = new CommandPing() });

        // type = PING (18): 08 12; ping = field 18, length-delimited, empty: 92 01 00.
        Assert.Equal("00000009000000050812920100", Convert.ToHexString(ping));
    }

    [Fact]
    public void A_payload_command_carries_magic_checksum_metadata_and_payload()
    {
        var send = new BaseCommand { Type = CommandType.Send, Send = new CommandSend { ProducerId = 1, SequenceId = 2 } };
        var metadata = new MessageMetadata { ProducerName = "p", SequenceId = 2, PublishTime = 3 };
        var frame = PulsarFrames.WithPayload(send, metadata, "hi"u8);

        var commandSize = (int)BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4));
        Assert.Equal(frame.Length - 4, (int)BinaryPrimitives.ReadUInt32BigEndian(frame));
        var at = 8 + commandSize;
        Assert.Equal(0x0e01, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(at)));
        var metadataBytes = metadata.ToByteArray();
        Assert.Equal("0A017010021803", Convert.ToHexString(metadataBytes));
        Assert.Equal(metadataBytes.Length, (int)BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(at + 6)));
        Assert.Equal("hi", Encoding.ASCII.GetString(frame.AsSpan(frame.Length - 2)));
        Assert.Equal(PulsarChecksum.Compute(frame.AsSpan(at + 6)), BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(at + 2)));

        var parsed = PulsarFrames.Parse(frame.AsMemory(4));
        Assert.Equal(CommandType.Send, parsed.Command.Type);
        Assert.Equal(metadata, parsed.Metadata);
        Assert.Equal("hi", Encoding.ASCII.GetString(parsed.Payload.Span));
    }

    [Fact]
    public void Broker_entry_metadata_before_the_checksum_is_read()
    {
        var frame = PulsarFrames.WithPayload(Message(), new MessageMetadata { ProducerName = "p", SequenceId = 1, PublishTime = 1 }, "x"u8,
            new BrokerEntryMetadata { BrokerTimestamp = 1234, Index = 7 });

        var parsed = PulsarFrames.Parse(frame.AsMemory(4));

        Assert.Equal(7UL, parsed.BrokerEntryMetadata!.Index);
        Assert.Equal("x", Encoding.ASCII.GetString(parsed.Payload.Span));
    }

    [Fact]
    public void A_wrong_checksum_is_refused_naming_the_message()
    {
        var frame = PulsarFrames.WithPayload(Message(), new MessageMetadata { ProducerName = "p", SequenceId = 1, PublishTime = 1 }, "payload"u8);
        frame[^1] ^= 0x01;

        var error = Assert.Throws<PulsarProtocolException>(() => PulsarFrames.Parse(frame.AsMemory(4)));

        Assert.Contains("checksum mismatch in MESSAGE 7:9", error.Message);
    }

    [Theory]
    [InlineData("00000004000000FF", "a command of 255 bytes in a frame of 4")]
    [InlineData("0000000300000000", "cannot hold a command size")]
    [InlineData("0000000600000002FFFF", "not a BaseCommand")]
    public async Task Malformed_frames_are_refused_with_what_is_wrong(string hex, string expected)
    {
        var stream = new MemoryStream(Convert.FromHexString(hex));

        var error = await Assert.ThrowsAsync<PulsarProtocolException>(() => new PulsarFrameReader(stream, 1024).ReadAsync(CancellationToken.None).AsTask());

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task A_frame_over_the_limit_is_refused_before_its_body_is_read_and_names_the_message()
    {
        var frame = PulsarFrames.WithPayload(Message(), new MessageMetadata { ProducerName = "p", SequenceId = 1, PublishTime = 1 }, new byte[5000]);

        var error = await Assert.ThrowsAsync<PulsarProtocolException>(() =>
            new PulsarFrameReader(new MemoryStream(frame), 1000).ReadAsync(CancellationToken.None).AsTask());

        Assert.Contains($"MESSAGE 7:9 of {frame.Length - 4} bytes is larger than the largest frame taken (1000 bytes", error.Message);
    }

    [Fact]
    public void A_batch_is_size_prefixed_single_message_metadata_and_payload_per_message()
    {
        var payload = PulsarEntries.EncodeBatch([(new Dictionary<string, string> { ["a"] = "b" }, "xyz"u8.ToArray())]);

        // SingleMessageMetadata: properties (1) {key (1) "a", value (2) "b"}, payload_size (3) = 3.
        Assert.Equal("0000000A" + "0A060A0161120162" + "1803" + "78797A", Convert.ToHexString(payload));
    }

    [Fact]
    public void A_batch_of_one_and_a_plain_entry_decode_to_the_same_message_with_their_batch_index()
    {
        var properties = new Dictionary<string, string> { ["msg_type"] = "Insert" };
        var batch = PulsarEntries.EncodeBatch([(properties, "row"u8.ToArray())]);
        var batchMetadata = new MessageMetadata
        {
            ProducerName = "p", SequenceId = 1, PublishTime = 1, NumMessagesInBatch = 1, Compression = CompressionType.Zstd,
            UncompressedSize = (uint)batch.Length,
        };
        var plainMetadata = new MessageMetadata { ProducerName = "p", SequenceId = 1, PublishTime = 1 };
        plainMetadata.Properties.Add(new KeyValue { Key = "msg_type", Value = "Insert" });

        var fromBatch = Assert.Single(PulsarEntries.Decode(batchMetadata, PulsarCompression.Compress(CompressionType.Zstd, batch), 1 << 20));
        var fromPlain = Assert.Single(PulsarEntries.Decode(plainMetadata, "row"u8.ToArray(), 1 << 20));

        Assert.Equal((0, "row", "Insert"), (fromBatch.BatchIndex, Encoding.ASCII.GetString(fromBatch.Payload.Span), fromBatch.Properties["msg_type"]));
        Assert.Equal((-1, "row", "Insert"), (fromPlain.BatchIndex, Encoding.ASCII.GetString(fromPlain.Payload.Span), fromPlain.Properties["msg_type"]));
    }

    [Fact]
    public void A_batch_skips_compacted_out_messages_but_keeps_the_indexes_of_the_others()
    {
        using var output = new MemoryStream();
        foreach (var (text, compacted) in new[] { ("a", false), ("b", true), ("c", false) })
        {
            var single = new SingleMessageMetadata { PayloadSize = 1, CompactedOut = compacted };
            var size = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(size, (uint)single.CalculateSize());
            output.Write(size);
            single.WriteTo(output);
            output.Write(Encoding.ASCII.GetBytes(text));
        }

        var messages = PulsarEntries.Decode(new MessageMetadata { NumMessagesInBatch = 3 }, output.ToArray(), 1 << 20);

        Assert.Equal([(0, "a"), (2, "c")], messages.Select(m => (m.BatchIndex, Encoding.ASCII.GetString(m.Payload.Span))));
    }

    [Fact]
    public void A_batch_cut_short_or_entries_this_reader_cannot_take_are_refused_clearly()
    {
        var batch = PulsarEntries.EncodeBatch([(new Dictionary<string, string>(), "xyz"u8.ToArray())]);

        Assert.Contains("the batch of 2 messages ends before message 1's metadata size",
            Assert.Throws<PulsarProtocolException>(() => PulsarEntries.Decode(new MessageMetadata { NumMessagesInBatch = 2 }, batch, 1 << 20)).Message);
        Assert.Contains("before message 0's 3-byte payload",
            Assert.Throws<PulsarProtocolException>(() => PulsarEntries.Decode(new MessageMetadata { NumMessagesInBatch = 1 }, batch[..^1], 1 << 20)).Message);
        var encrypted = new MessageMetadata();
        encrypted.EncryptionKeys.Add(new EncryptionKeys { Key = "k", Value = ByteString.CopyFromUtf8("v") });
        Assert.Contains("encrypted", Assert.Throws<PulsarProtocolException>(() => PulsarEntries.Decode(encrypted, batch, 1 << 20)).Message);
        Assert.Contains("chunk 0 of a message in 3 chunks",
            Assert.Throws<PulsarProtocolException>(() => PulsarEntries.Decode(new MessageMetadata { NumChunksFromMsg = 3, ChunkId = 0 }, batch, 1 << 20)).Message);
        Assert.Contains("decompresses to 5000 bytes (uncompressed_size), more than the 1000 taken",
            Assert.Throws<PulsarProtocolException>(() => PulsarEntries.Decode(
                new MessageMetadata { Compression = CompressionType.Lz4, UncompressedSize = 5000 }, batch, 1000)).Message);
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zlib)]
    [InlineData(CompressionType.Zstd)]
    [InlineData(CompressionType.Snappy)]
    public void Each_codec_round_trips_and_refuses_a_wrong_uncompressed_size(CompressionType type)
    {
        var data = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 500).Select(i => $"row {i % 37};")));

        var compressed = PulsarCompression.Compress(type, data);

        Assert.Equal(data, PulsarCompression.Decompress(type, compressed, data.Length));
        if (type == CompressionType.None) return;
        Assert.True(compressed.Length < data.Length, $"{type} made {data.Length} bytes into {compressed.Length}");
        var error = Assert.Throws<PulsarProtocolException>(() => PulsarCompression.Decompress(type, compressed, data.Length + 10));
        Assert.Contains($"the metadata says uncompressed_size {data.Length + 10}", error.Message);
    }

    [Theory]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zlib)]
    [InlineData(CompressionType.Zstd)]
    [InlineData(CompressionType.Snappy)]
    public void Garbage_under_a_codec_is_refused_clearly(CompressionType type)
    {
        var garbage = Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11)).ToArray();

        var error = Assert.Throws<PulsarProtocolException>(() => PulsarCompression.Decompress(type, garbage, 1000));

        Assert.Contains(type.ToString().ToUpperInvariant(), error.Message);
    }

    [Fact]
    public void Zlib_payloads_are_zlib_streams_and_zstd_payloads_are_zstd_frames()
    {
        var zlib = PulsarCompression.Compress(CompressionType.Zlib, "hello"u8);
        var zstd = PulsarCompression.Compress(CompressionType.Zstd, "hello"u8);

        // RFC 1950: CMF 0x78 (deflate, 32 KiB window); RFC 8878: the zstd frame magic 0xFD2FB528, little-endian.
        Assert.Equal(0x78, zlib[0]);
        Assert.Equal("28B52FFD", Convert.ToHexString(zstd.AsSpan(0, 4)));
    }

    private static BaseCommand Message() => new()
    {
        Type = CommandType.Message,
        Message = new CommandMessage { ConsumerId = 1, MessageId = new MessageIdData { LedgerId = 7, EntryId = 9 } },
    };
}
