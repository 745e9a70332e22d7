namespace Cdc.Application.Validation;

/// <summary>A request that breaks a rule about its own content. <see cref="Field"/> names the offending field.</summary>
public sealed class InvalidRequest(string field, string problem) : Exception($"{field}: {problem}")
{
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}

/// <summary>The configured maximum number of tasks exists already.</summary>
public sealed class TaskLimitReached(int limit) : Exception($"the task num has reach the limit, {limit}")
{
    public int Limit { get; } = limit;
}
