namespace Cdc.Domain.Tasks;

/// <summary>Everything a create request fixes about a task, validated and with its secrets protected.</summary>
public sealed record TaskDefinition(
    MilvusTarget Target,
    CollectionSelection Selection,
    RpcChannelInfo? RpcChannel = null,
    bool DisableAutoStart = false);
