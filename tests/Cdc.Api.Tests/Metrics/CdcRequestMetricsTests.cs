using Cdc.Api.Metrics;
using Cdc.Testing.Metrics;

namespace Cdc.Api.Tests.Metrics;

/// <summary>The request counter and latency histogram as a scrape shows them after known requests.</summary>
public sealed class CdcRequestMetricsTests
{
    [Fact]
    public async Task Latency_buckets_are_the_references_and_count_cumulatively()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new CdcRequestMetrics(registry);
        foreach (var ms in new[] { 0.5, 1, 1.5, 3, 100, 128, 129, 5000 })
            metrics.Record("create", CdcRequestStatus.Success, TimeSpan.FromMilliseconds(ms));
        metrics.Record(null, CdcRequestStatus.UnmarshalError, TimeSpan.FromMilliseconds(2));

        var families = await RegistryScrape.FamiliesAsync(registry);

        var latency = families["milvus_cdc_request_latency"];
        Assert.Equal(("histogram", "latency of requests to /cdc in ms"), (latency.Type, latency.Help));
        var create = latency.Samples.Where(s => s.Label("request_type") == "create").ToList();
        var buckets = create.Where(s => s.Name == "milvus_cdc_request_latency_bucket").ToList();
        Assert.Equal(["1", "2", "4", "8", "16", "32", "64", "128", "+Inf"], buckets.Select(b => b.Label("le")));
        Assert.Equal([2, 3, 4, 4, 4, 4, 4, 6, 8], buckets.Select(b => b.Value));
        Assert.Equal(0.5 + 1 + 1.5 + 3 + 100 + 128 + 129 + 5000, create.Single(s => s.Name == "milvus_cdc_request_latency_sum").Value, 6);
        Assert.Equal(8, create.Single(s => s.Name == "milvus_cdc_request_latency_count").Value);
        Assert.False(create.Single(s => s.Name == "milvus_cdc_request_latency_sum").Labels.ContainsKey("le"));

        var unknown = latency.Samples.Where(s => s.Label("request_type") == CdcRequestMetrics.UnknownType).ToList();
        Assert.Equal([0, 1, 1, 1, 1, 1, 1, 1, 1], unknown.Where(s => s.Name == "milvus_cdc_request_latency_bucket").Select(b => b.Value));

        var requests = families["milvus_cdc_request_total"];
        Assert.Equal("counter", requests.Type);
        Assert.Equal(new Dictionary<(string, string), double>
        {
            [("create", "total")] = 8,
            [("create", "success")] = 8,
            [("unknown", "total")] = 1,
            [("unknown", "unmarshal_error")] = 1,
        }, requests.Samples.ToDictionary(s => (s.Label("request_type"), s.Label("request_status")), s => s.Value));
    }
}
