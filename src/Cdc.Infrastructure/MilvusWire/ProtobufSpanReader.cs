using System.Text;

namespace Cdc.Infrastructure.MilvusWire;

/// <summary>
/// A forward-only reader of protobuf wire format over a span, for scanning large messages without materializing
/// the fields nobody needs. Any structural problem (truncation, bad varint, groups) throws InvalidDataException.
/// </summary>
internal ref struct ProtobufSpanReader(ReadOnlySpan<byte> buffer)
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    public readonly bool AtEnd => _position >= _buffer.Length;

    /// <summary>The offset of the next byte to read.</summary>
    public readonly int Position => _position;

    /// <summary>Reads the next tag as (field number, wire type).</summary>
    public (int Field, int WireType) ReadTag()
    {
        var tag = ReadVarint();
        var field = tag >> 3;
        if (field == 0 || field > int.MaxValue)
        {
            throw new InvalidDataException($"invalid protobuf field number {field}");
        }

        return ((int)field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _buffer.Length)
            {
                throw new InvalidDataException("truncated protobuf varint");
            }

            var b = _buffer[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new InvalidDataException("malformed protobuf varint");
    }

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint();
        if (length > (ulong)(_buffer.Length - _position))
        {
            throw new InvalidDataException("truncated protobuf length-delimited field");
        }

        var slice = _buffer.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadLengthDelimited());

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Advance(8);
                break;
            case LengthDelimited:
                ReadLengthDelimited();
                break;
            case Fixed32:
                Advance(4);
                break;
            default:
                throw new InvalidDataException($"unsupported protobuf wire type {wireType}");
        }
    }

    /// <summary>Visits the varints of a packed repeated field.</summary>
    public static int CountPackedVarints(ReadOnlySpan<byte> packed, out ulong first, out ulong last)
    {
        var reader = new ProtobufSpanReader(packed);
        var count = 0;
        first = 0;
        last = 0;
        while (!reader.AtEnd)
        {
            last = reader.ReadVarint();
            if (count++ == 0)
            {
                first = last;
            }
        }

        return count;
    }

    private void Advance(int count)
    {
        if (count > _buffer.Length - _position)
        {
            throw new InvalidDataException("truncated protobuf fixed-width field");
        }

        _position += count;
    }
}
