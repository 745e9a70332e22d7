namespace Cdc.Api.Hosting;

/// <summary>Where this server's replication hosting is, for readiness.</summary>
public enum ReplicationWorkerState
{
    /// <summary>Starting: the start-up step (disable_auto_start tasks) has not run yet.</summary>
    Starting,

    /// <summary>Tasks assigned to this server run here.</summary>
    Running,

    /// <summary>No replication engine is registered in this build: tasks are recorded, not replicated.</summary>
    NotConfigured,

    /// <summary>The host is stopping.</summary>
    Stopped,
}
