namespace Cdc.Domain.Tasks;

/// <summary>Everything a create request fixes about a task, validated and with its secrets protected.</summary>
/// <param name="NameMappings">The task's <c>name_mapping</c>: other names on the target (null: the source's).</param>
/// <param name="Start">Where channels without a checkpoint start (null: the latest message).</param>
/// <param name="ApplyMode">How changes reach the target; tasks created before the choice existed replicate.</param>
public sealed record TaskDefinition(
    MilvusTarget Target,
    CollectionSelection Selection,
    RpcChannelInfo? RpcChannel = null,
    bool DisableAutoStart = false,
    IReadOnlyList<NameMapping>? NameMappings = null,
    ReplicationStart? Start = null,
    ApplyMode ApplyMode = ApplyMode.Replicate)
{
    /// <summary>Where each source database and collection is written on the target.</summary>
    public TargetNames NamesOnTarget() => NameMappings is { Count: > 0 } ? new TargetNames(NameMappings) : TargetNames.Identity;
}
