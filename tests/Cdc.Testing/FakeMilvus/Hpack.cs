using System.Text;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// HPACK (RFC 7541) for <see cref="LeanHttp2Server"/>: a decoder with the static and dynamic tables and the Huffman
/// code of Appendix B, and the simplest valid encoder (literal header field without indexing, new name, no Huffman).
/// Header names and values are Latin-1, one char per octet, so entry sizes count octets as the RFC does.
/// One decoder per connection; it is not thread-safe (header blocks are decoded in order on the read loop).
/// </summary>
internal sealed class HpackDecoder
{
    /// <summary>The dynamic table size we allow (SETTINGS_HEADER_TABLE_SIZE, left at its default).</summary>
    public const int MaxTableSize = 4096;

    private static readonly (string Name, string Value)[] StaticTable =
    [
        (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
        (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
        (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
        ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""), ("cache-control", ""),
        ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
        ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""), ("date", ""),
        ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""), ("if-match", ""),
        ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""), ("if-unmodified-since", ""),
        ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""), ("proxy-authenticate", ""),
        ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""),
        ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
        ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
    ];

    /// <summary>Newest entry first, as dynamic indexes count (62 is the newest).</summary>
    private readonly LinkedList<(string Name, string Value)> _dynamic = new();
    private int _size;
    private int _maxSize = MaxTableSize;

    /// <summary>Decodes one complete header block (HEADERS plus its CONTINUATIONs) into <paramref name="output"/>.</summary>
    public void Decode(ReadOnlySpan<byte> block, List<(string Name, string Value)> output)
    {
        var pos = 0;
        var fieldSeen = false;
        while (pos < block.Length)
        {
            var first = block[pos];
            if ((first & 0x80) != 0)
            {
                // Indexed header field.
                output.Add(Entry(ReadInteger(block, ref pos, 7)));
                fieldSeen = true;
            }
            else if ((first & 0x40) != 0)
            {
                // Literal with incremental indexing.
                var field = ReadLiteral(block, ref pos, 6);
                output.Add(field);
                Add(field);
                fieldSeen = true;
            }
            else if ((first & 0x20) != 0)
            {
                // Dynamic table size update: only at the start of a block, never above what we allow.
                if (fieldSeen) throw new InvalidDataException("HPACK table size update after a header field");
                var size = ReadInteger(block, ref pos, 5);
                if (size > MaxTableSize) throw new InvalidDataException($"HPACK table size {size} above {MaxTableSize}");
                _maxSize = size;
                Evict(0);
            }
            else
            {
                // Literal without indexing (0000) or never indexed (0001): 4-bit name index.
                output.Add(ReadLiteral(block, ref pos, 4));
                fieldSeen = true;
            }
        }
    }

    private (string Name, string Value) ReadLiteral(ReadOnlySpan<byte> block, ref int pos, int prefixBits)
    {
        var nameIndex = ReadInteger(block, ref pos, prefixBits);
        var name = nameIndex == 0 ? ReadString(block, ref pos) : Entry(nameIndex).Name;
        return (name, ReadString(block, ref pos));
    }

    private (string Name, string Value) Entry(int index)
    {
        if (index <= 0) throw new InvalidDataException("HPACK index 0");
        if (index <= StaticTable.Length) return StaticTable[index - 1];
        var dynamicIndex = index - StaticTable.Length - 1;
        if (dynamicIndex >= _dynamic.Count) throw new InvalidDataException($"HPACK index {index} outside the tables");
        return _dynamic.ElementAt(dynamicIndex);
    }

    private void Add((string Name, string Value) field)
    {
        var entrySize = field.Name.Length + field.Value.Length + 32;
        if (entrySize > _maxSize)
        {
            // An entry larger than the table empties it and is not added (RFC 7541 4.4).
            _dynamic.Clear();
            _size = 0;
            return;
        }

        Evict(entrySize);
        _dynamic.AddFirst(field);
        _size += entrySize;
    }

    /// <summary>Drops the oldest entries until <paramref name="room"/> more octets fit.</summary>
    private void Evict(int room)
    {
        while (_size + room > _maxSize && _dynamic.Last is { } oldest)
        {
            _size -= oldest.Value.Name.Length + oldest.Value.Value.Length + 32;
            _dynamic.RemoveLast();
        }
    }

    /// <summary>An integer with an N-bit prefix (RFC 7541 5.1).</summary>
    private static int ReadInteger(ReadOnlySpan<byte> block, ref int pos, int prefixBits)
    {
        var mask = (1 << prefixBits) - 1;
        var value = block[pos++] & mask;
        if (value < mask) return value;
        var shift = 0;
        while (true)
        {
            if (pos >= block.Length) throw new InvalidDataException("HPACK integer is truncated");
            var b = block[pos++];
            value += (b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
            shift += 7;
            if (shift > 21) throw new InvalidDataException("HPACK integer is too large");
        }
    }

    /// <summary>A string literal: H bit, 7-bit-prefix length, then raw or Huffman-coded octets (RFC 7541 5.2).</summary>
    private static string ReadString(ReadOnlySpan<byte> block, ref int pos)
    {
        if (pos >= block.Length) throw new InvalidDataException("HPACK string is missing");
        var huffman = (block[pos] & 0x80) != 0;
        var length = ReadInteger(block, ref pos, 7);
        if (length > block.Length - pos) throw new InvalidDataException("HPACK string is truncated");
        var octets = block.Slice(pos, length);
        pos += length;
        return huffman ? Huffman.Decode(octets) : Encoding.Latin1.GetString(octets);
    }
}

/// <summary>The Huffman code of RFC 7541 Appendix B, decoded through a binary tree built once.</summary>
internal static class Huffman
{
    /// <summary>Codes of symbols 0..255 and EOS (256), right-aligned, with their bit lengths below.</summary>
    private static readonly uint[] Codes =
    [
        0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
        0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
        0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
        0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
        0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
        0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
        0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
        0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
        0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
        0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
        0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
        0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
        0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
        0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
        0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
        0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
        0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
        0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
        0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
        0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
        0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
        0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
        0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
        0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
        0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
        0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
        0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
        0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
        0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
        0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
        0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
        0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
        0x3fffffff,
    ];

    private static readonly byte[] Lengths =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private const int EndOfString = 256;

    /// <summary>
    /// The code tree: node n has children at [2n] (bit 0) and [2n + 1] (bit 1); a value above 0 is an inner node,
    /// a value below 0 is the leaf of symbol -value - 1, and 0 (the root, never a child) means no code goes there.
    /// </summary>
    private static readonly int[] Tree = BuildTree();

    private static int[] BuildTree()
    {
        var tree = new List<int> { 0, 0 };
        for (var symbol = 0; symbol < Codes.Length; symbol++)
        {
            var node = 0;
            for (var bit = Lengths[symbol] - 1; bit >= 0; bit--)
            {
                var slot = 2 * node + (int)((Codes[symbol] >> bit) & 1);
                if (bit == 0)
                {
                    if (tree[slot] != 0) throw new InvalidOperationException("Huffman table is not prefix-free");
                    tree[slot] = -symbol - 1;
                }
                else
                {
                    if (tree[slot] < 0) throw new InvalidOperationException("Huffman table is not prefix-free");
                    if (tree[slot] == 0)
                    {
                        tree[slot] = tree.Count / 2;
                        tree.Add(0);
                        tree.Add(0);
                    }

                    node = tree[slot];
                }
            }
        }

        return [.. tree];
    }

    /// <summary>Decodes Huffman-coded octets; the padding must be at most 7 one-bits (a prefix of EOS).</summary>
    public static string Decode(ReadOnlySpan<byte> octets)
    {
        var output = new StringBuilder(octets.Length * 8 / 5);
        var node = 0;
        var pendingBits = 0;
        var pendingAllOnes = true;
        foreach (var octet in octets)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var one = (octet >> bit) & 1;
                var next = Tree[2 * node + one];
                pendingBits++;
                pendingAllOnes &= one == 1;
                if (next == 0) throw new InvalidDataException("invalid Huffman code");
                if (next > 0)
                {
                    node = next;
                    continue;
                }

                var symbol = -next - 1;
                if (symbol == EndOfString) throw new InvalidDataException("EOS in a Huffman-coded string");
                output.Append((char)symbol);
                node = 0;
                pendingBits = 0;
                pendingAllOnes = true;
            }
        }

        if (pendingBits > 7 || !pendingAllOnes) throw new InvalidDataException("invalid Huffman padding");
        return output.ToString();
    }
}

/// <summary>The encoder side: every field as a literal without indexing with a new name, strings not Huffman-coded.</summary>
internal static class HpackEncoder
{
    public static void Write(List<byte> block, string name, string value)
    {
        block.Add(0x00);
        WriteString(block, name);
        WriteString(block, value);
    }

    private static void WriteString(List<byte> block, string text)
    {
        var octets = Encoding.Latin1.GetBytes(text);
        WriteInteger(block, octets.Length, 7, 0x00);
        block.AddRange(octets);
    }

    /// <summary>An integer with an N-bit prefix; <paramref name="flags"/> fills the bits above the prefix.</summary>
    private static void WriteInteger(List<byte> block, int value, int prefixBits, byte flags)
    {
        var mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            block.Add((byte)(flags | value));
            return;
        }

        block.Add((byte)(flags | mask));
        value -= mask;
        while (value >= 0x80)
        {
            block.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }

        block.Add((byte)value);
    }
}
