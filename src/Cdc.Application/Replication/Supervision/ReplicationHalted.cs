namespace Cdc.Application.Replication.Supervision;

/// <summary>A replication that cannot continue; <see cref="Reason"/> is what get/list show (the reference's texts).</summary>
public sealed class ReplicationHalted(string reason, Exception? inner = null) : Exception(reason, inner)
{
    /// <summary>How the reference CDC words a replication that stopped on a message or a call it cannot get through.</summary>
    public const string Prefix = "fail to handle replicate message, err: ";

    public string Reason { get; } = reason;

    /// <summary>A halt worded as the reference does: <see cref="Prefix"/> and what went wrong.</summary>
    public static ReplicationHalted Because(string what, Exception? inner = null) => new(Prefix + what, inner);
}
