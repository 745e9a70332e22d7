using System.Buffers;

namespace Cdc.Infrastructure.Target;

/// <summary>Builds a <see cref="ReadOnlySequence{T}"/> over pieces of memory, in order, without copying them.</summary>
internal static class MemorySegments
{
    public static ReadOnlySequence<byte> ToSequence(IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        Segment? first = null, last = null;
        foreach (var piece in pieces)
        {
            if (piece.IsEmpty)
            {
                continue;
            }

            if (last is null)
            {
                first = last = new Segment(piece, 0);
            }
            else
            {
                last = last.Append(piece);
            }
        }

        return first is null
            ? ReadOnlySequence<byte>.Empty
            : ReferenceEquals(first, last) ? new ReadOnlySequence<byte>(first.Memory) : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
