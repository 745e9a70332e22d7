namespace Cdc.Api.Metrics;

/// <summary>How a <c>/cdc</c> request ended, as the reference's <c>request_status</c> label names it.</summary>
public enum CdcRequestStatus
{
    /// <summary>Answered 200.</summary>
    Success,

    /// <summary>The envelope was read but the request failed (validation, rules, unknown type, server fault).</summary>
    Fail,

    /// <summary>A method other than POST.</summary>
    InvalidMethod,

    /// <summary>The body could not be read: I/O error, over <c>maxRequestBytes</c>, not declared JSON.</summary>
    ReadError,

    /// <summary>The body is not a JSON envelope (bad JSON, not an object, wrong field types).</summary>
    UnmarshalError,
}
