namespace Cdc.Domain.Changes;

/// <summary>A channel time tick: every message up to <see cref="SourceChange.Timestamp"/> has been written.</summary>
public sealed record TimeTickChange(ChangeOrigin Origin, ReadOnlyMemory<byte> Payload) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.TimeTick;
}
