namespace Cdc.Application.Metrics;

/// <summary>Which side of a replication a measurement is about (the reference's <c>op_type</c> label).</summary>
public enum ReplicateOperation
{
    /// <summary>Read from the source channel.</summary>
    Read,

    /// <summary>Written to the target.</summary>
    Write,
}
