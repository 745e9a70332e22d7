using Cdc.Testing.FakeMilvus;

namespace Cdc.Infrastructure.Tests.Milvus;

/// <summary>The lean transport's HPACK decoder against the examples of RFC 7541 Appendix C (Huffman, dynamic table, eviction).</summary>
public sealed class LeanTransportHpackTests
{
    private static List<(string Name, string Value)> Decode(HpackDecoder decoder, string hex)
    {
        var output = new List<(string Name, string Value)>();
        decoder.Decode(Convert.FromHexString(hex), output);
        return output;
    }

    [Fact]
    public void Requests_with_huffman_and_the_dynamic_table_decode_as_in_C_4()
    {
        var decoder = new HpackDecoder();

        Assert.Equal(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")],
            Decode(decoder, "828684418cf1e3c2e5f23a6ba0ab90f4ff"));
        Assert.Equal(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")],
            Decode(decoder, "828684be5886a8eb10649cbf"));
        Assert.Equal(
            [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")],
            Decode(decoder, "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"));
    }

    [Fact]
    public void Responses_with_eviction_in_a_256_octet_table_decode_as_in_C_6()
    {
        var decoder = new HpackDecoder();

        // The RFC's examples run with a 256-octet table: a size update (001, 5-bit prefix: 31 + 225) sets it first.
        Assert.Equal(
            [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
            Decode(decoder, "3fe101" + "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3"));
        Assert.Equal(
            [(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
            Decode(decoder, "4883640effc1c0bf"));
        Assert.Equal(
            [
                (":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
                ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
            ],
            Decode(decoder, "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"));
    }

    [Theory]
    [InlineData("00821fff")] // 'a' (00011), then 11 one-bits: padding longer than 7 bits
    [InlineData("008118")] // 'a', then 000: padding that is not all ones
    [InlineData("0084ffffffff")] // 30 one-bits are EOS, which a string must not contain
    public void Bad_huffman_strings_are_refused(string hex)
    {
        // Literal without indexing, new name: a Huffman-coded name of the given octets.
        Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), hex + "00"));
    }
}
