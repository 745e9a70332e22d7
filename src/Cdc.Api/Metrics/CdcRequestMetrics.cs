using Prometheus;

namespace Cdc.Api.Metrics;

/// <summary>
/// The reference's request metrics: <c>milvus_cdc_request_total{request_type,request_status}</c>, counted twice per
/// request (status <c>total</c>, and its outcome: <c>success</c>, <c>fail</c>, <c>invalid_method</c>,
/// <c>read_error</c> or <c>unmarshal_error</c>), and <c>milvus_cdc_request_latency{request_type}</c> in ms with
/// buckets 1, 2, 4, … 128. The type is <c>unknown</c> until a known request type has been read.
/// </summary>
public sealed class CdcRequestMetrics
{
    public const string UnknownType = "unknown";

    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(1, 2, 8);

    private readonly Counter _requests;
    private readonly Histogram _latency;

    public CdcRequestMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _requests = factory.CreateCounter("milvus_cdc_request_total", "requests to /cdc by type and status", ["request_type", "request_status"]);
        _latency = factory.CreateHistogram("milvus_cdc_request_latency", "latency of requests to /cdc in ms", ["request_type"],
            new HistogramConfiguration { Buckets = LatencyBuckets });
    }

    public void Record(string? requestType, CdcRequestStatus status, TimeSpan elapsed)
    {
        var type = requestType ?? UnknownType;
        _requests.WithLabels(type, "total").Inc();
        _requests.WithLabels(type, StatusLabel(status)).Inc();
        _latency.WithLabels(type).Observe(elapsed.TotalMilliseconds);
    }

    public static string StatusLabel(CdcRequestStatus status) => status switch
    {
        CdcRequestStatus.Success => "success",
        CdcRequestStatus.Fail => "fail",
        CdcRequestStatus.InvalidMethod => "invalid_method",
        CdcRequestStatus.ReadError => "read_error",
        CdcRequestStatus.UnmarshalError => "unmarshal_error",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };
}
