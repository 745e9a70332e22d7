using Google.Protobuf;

namespace Cdc.Infrastructure.Milvus;

/// <summary>
/// Appends protobuf wire format to a growing buffer: the few field kinds a span-level rewrite writes anew, and raw
/// bytes copied from the source message.
/// </summary>
internal sealed class ProtobufSpanWriter(int capacity)
{
    // Every byte handed out is written first: no need to zero 3 MB per insert.
    private byte[] _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(16, capacity));
    private int _length;

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    public void WriteString(int field, string value)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        WriteTag(field, 2);
        WriteVarint((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteInt64(int field, long value)
    {
        if (value == 0) return; // proto3: the default is not written
        WriteTag(field, 0);
        WriteVarint((ulong)value);
    }

    public void WriteMessage(int field, IMessage message)
    {
        var size = message.CalculateSize();
        WriteTag(field, 2);
        WriteVarint((ulong)size);
        Ensure(size);
        message.WriteTo(_buffer.AsSpan(_length, size));
        _length += size;
    }

    /// <summary>A packed repeated varint field holding <paramref name="count"/> times <paramref name="value"/>.</summary>
    public void WritePackedRepeated(int field, ulong value, int count)
    {
        if (count == 0) return;
        WriteTag(field, 2);
        WriteVarint((ulong)(VarintSize(value) * count));
        for (var i = 0; i < count; i++) WriteVarint(value);
    }

    /// <summary>What was written, without copying it (the writer must not be used afterwards).</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    private void WriteTag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_length++] = (byte)value;
    }

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private void Ensure(int more)
    {
        if (_length + more <= _buffer.Length) return;
        var grown = GC.AllocateUninitializedArray<byte>(Math.Max(_buffer.Length * 2, _length + more));
        _buffer.AsSpan(0, _length).CopyTo(grown);
        _buffer = grown;
    }
}
