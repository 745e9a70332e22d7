using System.Buffers;
using System.Buffers.Binary;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// Reads whole frames from a connection. A frame larger than <see cref="MaxFrameSize"/> is refused before its body is
/// buffered; its command is still read when small enough, so the error can name the message.
/// </summary>
public sealed class PulsarFrameReader(Stream stream, int maxFrameSize)
{
    private readonly byte[] _header = new byte[4];

    /// <summary>The largest frame body taken (maxMessageSize plus <see cref="PulsarFrames.FramePadding"/>).</summary>
    public int MaxFrameSize { get; set; } = maxFrameSize;

    /// <summary>The next frame, or null when the peer closed the connection between two frames.</summary>
    public async ValueTask<PulsarFrame?> ReadAsync(CancellationToken cancellationToken)
    {
        var read = await stream.ReadAtLeastAsync(_header, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0) return null;
        if (read < 4) throw new EndOfStreamException("the connection closed inside a frame's size");
        var size = BinaryPrimitives.ReadUInt32BigEndian(_header);
        if (size < 4) throw new PulsarProtocolException($"malformed frame: a total size of {size} bytes cannot hold a command size");
        if (size > (uint)MaxFrameSize) throw await Oversized(size, cancellationToken).ConfigureAwait(false);
        // Not zeroed first: every byte is overwritten by the read. A large frame (a message of an Insert's rows) is read
        // into an array rented from the shared pool (see PulsarFrame.Lent), so the large object heap does not fill with
        // one new array per message between the GC's rare full collections.
        var pooled = MessageArrays.IsPooled(size);
        var body = MessageArrays.Take((int)size, ArrayPool<byte>.Shared);
        await stream.ReadExactlyAsync(body.AsMemory(0, (int)size), cancellationToken).ConfigureAwait(false);
        var frame = PulsarFrames.Parse(body.AsMemory(0, (int)size));
        return pooled ? frame with { Lent = body } : frame;
    }

    private async Task<PulsarProtocolException> Oversized(uint size, CancellationToken cancellationToken)
    {
        var what = "a frame";
        try
        {
            await stream.ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false);
            var commandSize = BinaryPrimitives.ReadUInt32BigEndian(_header);
            if (commandSize <= 64 * 1024 && commandSize <= size - 4)
            {
                var command = new byte[commandSize];
                await stream.ReadExactlyAsync(command, cancellationToken).ConfigureAwait(false);
                what = PulsarFrames.Describe(PulsarFrames.ParseCommand(command));
            }
        }
        catch (Exception e) when (e is IOException or PulsarProtocolException)
        {
            // The size alone is reason enough; the command was only read to name the message.
        }

        return new PulsarProtocolException(
            $"{what} of {size} bytes is larger than the largest frame taken ({MaxFrameSize} bytes: maxMessageSize plus {PulsarFrames.FramePadding} bytes of command and metadata)");
    }
}
