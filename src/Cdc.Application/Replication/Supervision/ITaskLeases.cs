namespace Cdc.Application.Replication.Supervision;

/// <summary>
/// Which server process runs which task. A lease is held by one owner until it expires or is released; only its
/// holder may renew it. Expiry is judged by the store's clock, so servers with skewed clocks agree.
/// </summary>
public interface ITaskLeases
{
    /// <summary>Takes the lease if it is free, expired, or already ours; true when we hold it afterwards.</summary>
    Task<bool> TryAcquireAsync(string taskId, string owner, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Extends our lease; false when it is no longer ours (expired and taken by another owner).</summary>
    Task<bool> RenewAsync(string taskId, string owner, TimeSpan ttl, CancellationToken cancellationToken);

    Task ReleaseAsync(string taskId, string owner, CancellationToken cancellationToken);
}
