using Cdc.Api.Hosting;
using Wolverine;

namespace Cdc.Api.Composition;

/// <summary>
/// Wolverine, as this server uses it: it hosts the task agents (<see cref="TaskAgentFamily"/>: its leader assigns the
/// tasks of the tenant to the live servers) and receives the task events of Marten's subscription
/// (<see cref="TaskEventsHandler"/>). Commands of the /cdc API go through MediatR, not Wolverine.
/// </summary>
public static class ReplicationHosting
{
    public static void Configure(WolverineOptions opts)
    {
        // Wolverine 6 runs handlers through generated code. It is generated ahead of time (src/Cdc.Api/Internal/Generated,
        // `codegen write`) and compiled into this assembly, so no Roslyn compiler runs in the server: a compilation at the
        // first event of each kind cost ~190 MB of memory and stalled the thread pool (the other receivers waited on
        // Wolverine's lock) for one to three seconds. A test checks the generated code against the handlers.
        opts.CodeGeneration.TypeLoadMode = JasperFx.CodeGeneration.TypeLoadMode.Static;
        // The handlers are named, not discovered (several servers in one test process share Wolverine's idea of the
        // application assembly, which is the first host's).
        opts.ApplicationAssembly = typeof(TaskEventsHandler).Assembly;
        opts.Discovery.DisableConventionalDiscovery().IncludeType(typeof(TaskEventsHandler));
        opts.Durability.Mode = DurabilityMode.Balanced;
        // Node heartbeats and assignment checks every second; a server whose heartbeat is 10 s old is dead and its
        // tasks move (each then starts once its old lease, 15 s, has expired: within 30 s of the crash).
        opts.Durability.HealthCheckPollingTime = TimeSpan.FromSeconds(1);
        opts.Durability.FirstHealthCheckExecution = TimeSpan.FromMilliseconds(200);
        opts.Durability.CheckAssignmentPeriod = TimeSpan.FromSeconds(1);
        opts.Durability.StaleNodeTimeout = TimeSpan.FromSeconds(10);
    }
}
