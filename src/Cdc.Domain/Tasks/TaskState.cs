namespace Cdc.Domain.Tasks;

/// <summary>The lifecycle states of a CDC task, with the reference server's numbering.</summary>
public enum TaskState
{
    Initial = 0,
    Running = 1,
    Paused = 2,
}
