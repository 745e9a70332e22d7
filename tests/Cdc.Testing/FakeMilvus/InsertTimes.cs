using Cdc.Infrastructure.Milvus.Protos.Common;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.Reflection;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// What a fake target that keeps no rows needs of a replicated Insert: its base (msg.proto InsertRequest field 1) and
/// its row timestamps (field 10), for the time-order checks. Every other field, the columns above all (3 MB for 1,000
/// rows of 768-dim vectors), is skipped in place by <see cref="Parser"/>, not copied and parsed as InsertRequest would.
/// Read-only: it cannot be written, cloned or described.
/// </summary>
internal sealed class InsertTimes : IMessage<InsertTimes>, IBufferMessage
{
    private const uint BaseTag = (1 << 3) | 2;
    private const uint TimestampsPackedTag = (10 << 3) | 2;
    private const uint TimestampTag = 10 << 3;
    private static readonly FieldCodec<ulong> TimestampCodec = FieldCodec.ForUInt64(TimestampsPackedTag);

    public static MessageParser<InsertTimes> Parser { get; } = new MessageParser<InsertTimes>(() => new InsertTimes()).WithDiscardUnknownFields(true);

    public MsgBase? Base { get; private set; }

    public RepeatedField<ulong> Timestamps { get; } = [];

    void IBufferMessage.InternalMergeFrom(ref ParseContext input)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (tag)
            {
                case BaseTag:
                    Base ??= new MsgBase();
                    input.ReadMessage(Base);
                    break;
                case TimestampsPackedTag or TimestampTag:
                    Timestamps.AddEntriesFrom(ref input, TimestampCodec);
                    break;
                default:
                    // The parser discards unknown fields: this skips the field without copying it.
                    _ = UnknownFieldSet.MergeFieldFrom(null, ref input);
                    break;
            }
        }
    }

    void IBufferMessage.InternalWriteTo(ref WriteContext output) => throw new NotSupportedException();

    public void MergeFrom(CodedInputStream input) => input.ReadRawMessage(this);

    public void MergeFrom(InsertTimes message) => throw new NotSupportedException();

    public void WriteTo(CodedOutputStream output) => throw new NotSupportedException();

    public int CalculateSize() => throw new NotSupportedException();

    public MessageDescriptor Descriptor => throw new NotSupportedException();

    public bool Equals(InsertTimes? other) => ReferenceEquals(this, other);

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);

    public InsertTimes Clone() => throw new NotSupportedException();
}
