using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Google.Protobuf;

namespace Cdc.Bench;

/// <summary>
/// Decode throughput of <see cref="MsgStreamDecoder"/> on InsertRequests of 1,000 rows x 768-dim float vectors plus
/// an int64 primary key, next to Google.Protobuf's InsertRequest.Parser.ParseFrom on the same bytes.
/// </summary>
public static class DecodeBenchmark
{
    private const int Rows = 1_000;
    private const int Dimension = 768;
    private static readonly TimeSpan MeasureFor = TimeSpan.FromSeconds(4);

    public static async Task RunAsync(BenchmarkContext context)
    {
        var payload = BuildInsert().ToByteArray();
        var message = new SourceMessage("by-dev-rootcoord-dml_0", new KafkaOffset(1),
            new Dictionary<string, string> { ["msg_type"] = "Insert" }, payload);
        var decoder = new MsgStreamDecoder();

        // Sanity: both paths see the same rows.
        var change = (InsertChange)decoder.DecodeOrThrow(message);
        var raw = InsertRequest.Parser.ParseFrom(payload);
        if (change.RowCount != Rows || raw.FieldsData[1].Vectors.FloatVector.Data.Count != Rows * Dimension)
        {
            throw new InvalidOperationException("benchmark payload did not decode as expected");
        }

        var decoderMbps = Measure(payload.Length, () => decoder.Decode(message).IsSuccess);
        var rawMbps = Measure(payload.Length, () => InsertRequest.Parser.ParseFrom(payload).NumRows > 0);

        var now = context.TimeProvider.GetUtcNow();
        var table = new StringBuilder()
            .AppendLine("# msgstream decode throughput")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Payload: one InsertRequest, {Rows:N0} rows x {Dimension}-dim float vectors + int64 pk = {payload.Length / 1024.0 / 1024.0:F2} MiB. Single thread, {MeasureFor.TotalSeconds:0} s per case after warm-up.")
            .AppendLine()
            .AppendLine("| date (UTC) | machine cores | .NET | MsgStreamDecoder.Decode MB/s | InsertRequest.Parser.ParseFrom MB/s | ratio decoder/raw |")
            .AppendLine("|---|---|---|---|---|---|")
            .AppendLine(CultureInfo.InvariantCulture, $"| {now:yyyy-MM-dd HH:mm} | {Environment.ProcessorCount} | {Environment.Version} | {decoderMbps:F0} | {rawMbps:F0} | {decoderMbps / rawMbps:F2} |")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Messages/s: decoder {decoderMbps * 1_000_000 / payload.Length:N0}, raw parse {rawMbps * 1_000_000 / payload.Length:N0}.")
            .AppendLine()
            .AppendLine("Why the gap: for Insert the decoder scans only the header fields (ids, names, shard, row count, first/last row")
            .AppendLine("timestamp, column names/types) and steps over each column's data by its length prefix; the column data stays in")
            .AppendLine("the raw payload that is forwarded to the target. Its cost therefore does not grow with the vector bytes, while")
            .AppendLine("ParseFrom copies all 768,000 floats. Both numbers are payload bytes / wall time, MB = 10^6 bytes.")
            .ToString();

        Console.WriteLine(table);
        Directory.CreateDirectory(context.ResultsDirectory);
        var path = Path.Combine(context.ResultsDirectory, "decode.md");
        await File.WriteAllTextAsync(path, table);
        Console.WriteLine($"written to {path}");
    }

    /// <summary>MB/s (10^6 bytes) of repeated <paramref name="decode"/> calls over the payload.</summary>
    private static double Measure(int payloadBytes, Func<bool> decode)
    {
        for (var i = 0; i < 50; i++)
        {
            decode();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var iterations = 0L;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < MeasureFor)
        {
            for (var i = 0; i < 10; i++)
            {
                if (!decode())
                {
                    throw new InvalidOperationException("decode failed during measurement");
                }
            }

            iterations += 10;
        }

        watch.Stop();
        return iterations * (double)payloadBytes / watch.Elapsed.TotalSeconds / 1_000_000;
    }

    /// <summary>The benchmark's InsertRequest (also the payload of the throughput benchmark's write-only measurement).</summary>
    internal static InsertRequest BuildInsert()
    {
        var random = new Random(42);
        var timestamp = HybridTimestamp.FromParts(1_723_104_195_025).Value;
        var insert = new InsertRequest
        {
            Base = new MsgBase { MsgType = MsgType.Insert, Timestamp = timestamp, MsgID = 1, SourceID = 1 },
            ShardName = "by-dev-rootcoord-dml_0_445993766148522019v0",
            DbName = "default",
            CollectionName = "bench",
            PartitionName = "_default",
            DbID = 1,
            CollectionID = 445993766148522019,
            PartitionID = 445993766148522020,
            SegmentID = 445993766148522021,
            NumRows = Rows,
            Version = InsertDataVersion.ColumnBased,
        };
        var keys = new LongArray();
        var vectors = new FloatArray();
        for (var row = 0; row < Rows; row++)
        {
            insert.Timestamps.Add(timestamp);
            insert.RowIDs.Add(445993766148600000 + row);
            keys.Data.Add(row);
            for (var d = 0; d < Dimension; d++)
            {
                vectors.Data.Add((float)random.NextDouble());
            }
        }

        insert.FieldsData.Add(new FieldData { Type = DataType.Int64, FieldName = "pk", FieldId = 100, Scalars = new ScalarField { LongData = keys } });
        insert.FieldsData.Add(new FieldData
        {
            Type = DataType.FloatVector,
            FieldName = "vec",
            FieldId = 101,
            Vectors = new VectorField { Dim = Dimension, FloatVector = vectors },
        });
        return insert;
    }
}
