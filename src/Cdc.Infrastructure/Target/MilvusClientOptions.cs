using Cdc.Application.Replication.Running;

namespace Cdc.Infrastructure.Target;

/// <summary>Retry behaviour of the target client for retryable failures (exponential backoff with jitter).</summary>
public sealed record MilvusClientOptions
{
    public int MaxRetryAttempts { get; init; } = 5;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(10);
}
