namespace Cdc.Domain.Tasks;

/// <summary>Everything a create request fixes about a task, validated and with its secrets protected.</summary>
/// <param name="ApplyMode">How changes reach the target; tasks created before the choice existed replicate.</param>
public sealed record TaskDefinition(
    MilvusTarget Target,
    CollectionSelection Selection,
    RpcChannelInfo? RpcChannel = null,
    bool DisableAutoStart = false,
    ApplyMode ApplyMode = ApplyMode.Replicate);
