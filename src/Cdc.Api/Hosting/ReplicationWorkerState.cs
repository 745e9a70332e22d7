namespace Cdc.Api.Hosting;

/// <summary>Where the hosted <see cref="ReplicationWorker"/> is, for readiness.</summary>
public enum ReplicationWorkerState
{
    /// <summary>Not yet started, or starting its supervisor.</summary>
    Starting,

    /// <summary>The supervisor started and the worker follows the task events.</summary>
    Running,

    /// <summary>Finished by design: no replication engine is registered in this build.</summary>
    NotConfigured,

    /// <summary>The worker ended with an error.</summary>
    Faulted,

    /// <summary>The worker ended because the host is stopping.</summary>
    Stopped,
}
