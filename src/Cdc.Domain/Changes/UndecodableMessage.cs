namespace Cdc.Domain.Changes;

/// <summary>Why a source message could not be turned into a change, and exactly where it sits.</summary>
public sealed record UndecodableMessage(string Channel, SourceMessageId Id, string MsgType, string Reason)
{
    public override string ToString() => $"cannot decode message on channel '{Channel}' at {Id} (type '{MsgType}'): {Reason}";
}
