namespace Cdc.Application;

/// <summary>The limits and source facts from the server configuration that task commands check against.</summary>
public sealed record CdcLimits(int MaxTaskNum, int MaxNameLength, string ReplicateChannel);
