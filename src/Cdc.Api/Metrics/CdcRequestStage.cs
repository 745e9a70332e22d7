namespace Cdc.Api.Metrics;

/// <summary>How far <c>POST /cdc</c> got with a request: tells a read error from an unmarshal error from a failure.</summary>
public enum CdcRequestStage
{
    ReadingBody,
    ReadingEnvelope,
    Handling,
}
