using Cdc.Application.EventStore;
using Cdc.Domain.Events;

namespace Cdc.Application.Auditing;

/// <summary>An event as audit queries show it: its place, its type and its data with secrets masked.</summary>
public sealed record AuditEntry(long Sequence, string StreamId, long Version, string Type, DateTimeOffset Timestamp, object Data)
{
    public static AuditEntry From(RecordedEvent e) =>
        new(e.Sequence, e.StreamId, e.Version, e.Type, e.Timestamp, e.Data is IHoldsSecrets s ? s.Masked() : e.Data);
}
