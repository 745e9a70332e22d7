using System.Buffers;
using Cdc.Infrastructure.Target;
using Google.Protobuf;

namespace Cdc.Infrastructure.MilvusWire;

/// <summary>
/// Appends protobuf wire format: the few field kinds a span-level rewrite writes anew, raw bytes copied from the source
/// message, and slices of the source message referenced without a copy (<see cref="WriteReferenced"/>). What was
/// written is a sequence of the written chunks and the referenced slices, in order.
/// </summary>
internal sealed class ProtobufSpanWriter(int capacity)
{
    private readonly List<ReadOnlyMemory<byte>> _segments = [];

    // Every byte handed out is written first: no need to zero the buffer.
    private byte[] _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(16, capacity));

    // Where the chunk not yet in _segments starts, and where it ends.
    private int _start;
    private int _length;

    /// <summary>Appends <paramref name="bytes"/> by reference: they must not change while the result is in use.</summary>
    public void WriteReferenced(ReadOnlyMemory<byte> bytes)
    {
        CloseChunk();
        _segments.Add(bytes);
    }

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
    public ReadOnlySequence<byte> Written
    {
        get
        {
            CloseChunk();
            return MemorySegments.ToSequence(_segments);
        }
    }

    private void CloseChunk()
    {
        if (_length > _start)
        {
            _segments.Add(_buffer.AsMemory(_start, _length - _start));
            _start = _length;
        }
    }

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
        // Closed chunks stay where they are, in the old buffer; the open one moves to a new one.
        var grown = GC.AllocateUninitializedArray<byte>(Math.Max(_buffer.Length * 2, _length - _start + more));
        _buffer.AsSpan(_start, _length - _start).CopyTo(grown);
        _length -= _start;
        _start = 0;
        _buffer = grown;
    }
}
