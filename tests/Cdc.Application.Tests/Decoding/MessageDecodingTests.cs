using Cdc.Application.Replication.Decoding;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using static Cdc.Application.Tests.TestChanges;

namespace Cdc.Application.Tests.Decoding;

public sealed class MessageDecodingTests
{
    private static SourceMessage Message(long offset) =>
        new(Channel, new KafkaOffset(offset), new Dictionary<string, string>(), new byte[] { 1 });

    private static MessageDecoding Decoding(ChangeDecodeResult result) =>
        new(new FixedDecoder(result), new TestMonitors().Monitor());

    [Fact]
    public void A_decoded_change_is_handed_on_an_unsupported_message_is_skipped_and_a_corrupt_one_halts()
    {
        var insert = Insert(1, Ts(1));
        Assert.Same(insert, Decoding(ChangeDecodeResult.Success(insert)).Decode(Message(1)));
        var failure = new UndecodableMessage(Channel, new KafkaOffset(7), "DataNodeTt", "not replicated");
        Assert.Null(Decoding(ChangeDecodeResult.Unsupported(failure)).Decode(Message(7)));

        var corrupt = new UndecodableMessage(Channel, new KafkaOffset(8), "Insert", "truncated field 5");
        var halted = Assert.Throws<ReplicationHalted>(() => Decoding(ChangeDecodeResult.Corrupt(corrupt)).Decode(Message(8)));
        Assert.StartsWith(ReplicationHalted.Prefix, halted.Reason);
        Assert.Contains("kafka offset 8", halted.Reason);
    }

    private sealed class FixedDecoder(ChangeDecodeResult result) : IChangeDecoder
    {
        public ChangeDecodeResult Decode(SourceMessage message) => result;
    }
}
