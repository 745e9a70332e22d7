using System.Buffers.Binary;
using System.Numerics;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of a Pulsar payload command: computed over everything that follows the
/// checksum field, from the metadata size to the end of the frame (Pulsar binary protocol, "Payload commands").
/// </summary>
public static class PulsarChecksum
{
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
