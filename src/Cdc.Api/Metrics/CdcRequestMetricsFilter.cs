namespace Cdc.Api.Metrics;

/// <summary>
/// Wraps the <c>/cdc</c> endpoints: times each request and records it in <see cref="CdcRequestMetrics"/> with the
/// status its answer and <see cref="CdcRequestObservation"/> imply.
/// </summary>
public sealed class CdcRequestMetricsFilter(CdcRequestMetrics metrics, TimeProvider clock) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var observation = new CdcRequestObservation();
        http.Features.Set(observation);
        var started = clock.GetTimestamp();
        var status = CdcRequestStatus.Fail;
        try
        {
            var result = await next(context);
            status = Classify(http.Request.Method, observation.Stage, result is IStatusCodeHttpResult { StatusCode: { } code } ? code : 200);
            return result;
        }
        finally
        {
            metrics.Record(observation.RequestType, status, clock.GetElapsedTime(started));
        }
    }

    public static CdcRequestStatus Classify(string method, CdcRequestStage stage, int statusCode) =>
        !HttpMethods.IsPost(method) ? CdcRequestStatus.InvalidMethod
        : statusCode == StatusCodes.Status200OK ? CdcRequestStatus.Success
        : stage switch
        {
            CdcRequestStage.ReadingBody => CdcRequestStatus.ReadError,
            CdcRequestStage.ReadingEnvelope => CdcRequestStatus.UnmarshalError,
            _ => CdcRequestStatus.Fail,
        };
}
