using Microsoft.AspNetCore.Http.Features;

namespace Cdc.Api.Metrics;

/// <summary>
/// A request feature set by <see cref="CdcRequestMetricsFilter"/>: the endpoint marks how far it got and, once
/// known, the request type; the filter turns that and the answer into the request metrics.
/// </summary>
public sealed class CdcRequestObservation
{
    public CdcRequestStage Stage { get; private set; } = CdcRequestStage.ReadingBody;

    /// <summary>A known request type, or null while unknown (the metrics say <c>unknown</c>).</summary>
    public string? RequestType { get; private set; }

    public static CdcRequestObservation? Of(HttpContext context) => context.Features.Get<CdcRequestObservation>();

    public void BodyRead() => Stage = CdcRequestStage.ReadingEnvelope;

    /// <summary>The envelope was read; <paramref name="knownType"/> is null when the type is missing or unknown.</summary>
    public void EnvelopeRead(string? knownType)
    {
        Stage = CdcRequestStage.Handling;
        RequestType = knownType;
    }
}
