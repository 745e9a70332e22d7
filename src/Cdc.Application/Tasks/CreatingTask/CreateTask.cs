using Cdc.Application.EventStore;
using Cdc.Application.Replication.Source;
using Cdc.Application.Secrets;
using Cdc.Application.Validation;
using Cdc.Domain.Tasks;
using FluentValidation;
using MediatR;

namespace Cdc.Application.Tasks.CreatingTask;

/// <summary><c>milvus_connect_param</c> as the caller sent it (secrets in plain text, not yet stored).</summary>
public sealed record MilvusConnectParam(
    string? Uri = null,
    string? Token = null,
    string? Host = null,
    int Port = 0,
    bool EnableTls = false,
    string? Username = null,
    string? Password = null,
    int ConnectTimeout = 0,
    DialConfig? DialConfig = null,
    int ChannelNum = 0,
    bool IgnorePartition = false);

/// <summary><c>kafka_connect_param</c>: the reference's Kafka sink, recognised so that it can be refused clearly.</summary>
public sealed record KafkaConnectParam(string? Address, string? Topic);

/// <summary><c>buffer_config</c>: checked like the reference does, otherwise unused.</summary>
public sealed record BufferConfig(int Period, int Size);

/// <summary>Create a task: the <c>create</c> request of POST /cdc. Returns the task id.</summary>
public sealed record CreateTask(
    MilvusConnectParam? MilvusConnectParam,
    IReadOnlyList<CollectionInfo>? CollectionInfos,
    IReadOnlyDictionary<string, IReadOnlyList<CollectionInfo>>? DbCollections = null,
    RpcChannelInfo? RpcChannelInfo = null,
    string? TaskId = null,
    bool DisableAutoStart = false,
    KafkaConnectParam? KafkaConnectParam = null,
    BufferConfig? BufferConfig = null,
    IReadOnlyList<NameMapping>? NameMapping = null,
    string? StartFrom = null,
    string? ApplyMode = null) : IRequest<string>;

/// <summary>The create checks of the reference server (zilliztech/milvus-cdc server/cdc_impl.go, Create), in its order; each names its field.</summary>
public sealed class CreateTaskValidator : AbstractValidator<CreateTask>
{
    public CreateTaskValidator(CdcLimits limits, ISourcePositionCodec? positions = null, TimeProvider? clock = null)
    {
        ClassLevelCascadeMode = CascadeMode.Stop;
        RuleLevelCascadeMode = CascadeMode.Stop;

        RuleFor(r => r.TaskId)
            .Must(id => id is null || Domain.Tasks.TaskId.IsWellFormed(id)).OverridePropertyName("task_id")
            .WithMessage($"the task id must be 1 to {Domain.Tasks.TaskId.MaxLength} letters, digits, '-' or '_'");
        RuleFor(r => r).Must(r => r.MilvusConnectParam is not null || !string.IsNullOrEmpty(r.KafkaConnectParam?.Address))
            .OverridePropertyName("milvus_connect_param").WithMessage("the downstream address is empty");
        RuleFor(r => r).Must(r => r.MilvusConnectParam is null || r.KafkaConnectParam is null)
            .OverridePropertyName("kafka_connect_param").WithMessage("don't support milvus and kafka at the same time now");
        RuleFor(r => r.KafkaConnectParam).Must(k => k is null)
            .OverridePropertyName("kafka_connect_param").WithMessage("the kafka sink is not supported by this server; use milvus_connect_param");

        When(r => r.MilvusConnectParam is not null, () =>
        {
            RuleFor(r => r.MilvusConnectParam!).Must(m => !string.IsNullOrWhiteSpace(m.Uri) || !string.IsNullOrWhiteSpace(m.Host))
                .OverridePropertyName("milvus_connect_param.uri").WithMessage("the milvus host is empty");
            RuleFor(r => r.MilvusConnectParam!).Must(m => !string.IsNullOrWhiteSpace(m.Uri) || m.Port > 0)
                .OverridePropertyName("milvus_connect_param.port").WithMessage("the milvus port is less or equal zero");
            RuleFor(r => r.MilvusConnectParam!.Uri).Must(BeAMilvusUri!).When(r => !string.IsNullOrWhiteSpace(r.MilvusConnectParam!.Uri))
                .OverridePropertyName("milvus_connect_param.uri").WithMessage("the uri must be an absolute http:// or https:// address, like http://localhost:19530");
            RuleFor(r => r.MilvusConnectParam!).Must(m => string.IsNullOrEmpty(m.Username) == string.IsNullOrEmpty(m.Password))
                .OverridePropertyName("milvus_connect_param.username").WithMessage("cannot set only one of the milvus username and password");
            RuleFor(r => r.MilvusConnectParam!.ConnectTimeout).GreaterThanOrEqualTo(0)
                .OverridePropertyName("milvus_connect_param.connect_timeout").WithMessage("the milvus connect timeout is less zero");
            RuleFor(r => r.MilvusConnectParam!.ChannelNum).GreaterThanOrEqualTo(0)
                .OverridePropertyName("milvus_connect_param.channel_num").WithMessage("the channel num is less zero");
        });

        RuleFor(r => r.BufferConfig!.Period).GreaterThanOrEqualTo(0).When(r => r.BufferConfig is not null)
            .OverridePropertyName("buffer_config.period").WithMessage("the cache period is less zero");
        RuleFor(r => r.BufferConfig!.Size).GreaterThanOrEqualTo(0).When(r => r.BufferConfig is not null)
            .OverridePropertyName("buffer_config.size").WithMessage("the cache size is less zero");

        Include(new SelectionRules(limits, positions, clock ?? TimeProvider.System));

        RuleFor(r => r.ApplyMode).Must(mode => mode is null || ApplyModes.Parse(mode) is not null)
            .OverridePropertyName("apply_mode")
            .WithMessage(r => $"the apply mode must be \"{ApplyModes.Replicate}\" (the default) or \"{ApplyModes.Upsert}\", got \"{r.ApplyMode}\"");

        RuleFor(r => r.RpcChannelInfo!.Name)
            .Must(n => string.IsNullOrEmpty(n) || n == limits.ReplicateChannel)
            .When(r => r.RpcChannelInfo is not null)
            .OverridePropertyName("rpc_channel_info.name")
            .WithMessage("the rpc channel is invalid, the channel name should be the same as the source config");
        RuleFor(r => r.RpcChannelInfo!.Position)
            .Custom((position, context) =>
            {
                if (string.IsNullOrEmpty(position) || positions is null) return;
                try
                {
                    positions.Decode(position);
                }
                catch (FormatException ex)
                {
                    context.AddFailure("rpc_channel_info.position", $"fail to decode the position data: {ex.Message}");
                }
            })
            .When(r => r.RpcChannelInfo is not null);
    }

    private static bool BeAMilvusUri(string uri) =>
        System.Uri.TryCreate(uri, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && u.Host.Length > 0;
}

public sealed class CreateTaskHandler(IEventStore store, TaskStreams streams, ISecretProtector secrets, CdcLimits limits, TimeProvider clock)
    : IRequestHandler<CreateTask, string>
{
    public async Task<string> Handle(CreateTask request, CancellationToken cancellationToken)
    {
        if (request.TaskId is { } chosen)
        {
            var existing = await streams.LoadAsync(chosen, cancellationToken);
            if (existing.IsDeleted)
                throw new InvalidRequest("task_id", $"the task id {chosen} belonged to a task that was deleted; choose another id");
            if (existing.Exists) return chosen; // idempotent create, as the reference does
        }

        var id = request.TaskId is { } given ? new TaskId(given) : TaskId.New();
        var created = CdcTask.Create(id, ToDefinition(request), clock.GetUtcNow());
        try
        {
            await store.AppendAsync(
                new StreamAppend(id.Value, StreamTypes.Task, 0, [created]) { LiveStreamLimit = limits.MaxTaskNum },
                cancellationToken);
        }
        catch (LiveStreamLimitReached)
        {
            throw new TaskLimitReached(limits.MaxTaskNum);
        }
        catch (ConcurrencyConflict) when (request.TaskId is not null)
        {
            // Two creates with the same caller-chosen id raced: the other one created it.
            if ((await streams.LoadAsync(id.Value, cancellationToken)).Exists) return id.Value;
            throw;
        }
        return id.Value;
    }

    private TaskDefinition ToDefinition(CreateTask request)
    {
        var m = request.MilvusConnectParam!;
        var uri = !string.IsNullOrWhiteSpace(m.Uri)
            ? m.Uri.Trim()
            : $"{(m.EnableTls ? "https" : "http")}://{m.Host!.Trim()}:{m.Port}";
        var target = new MilvusTarget(
            Uri: uri,
            ConnectTimeoutSeconds: m.ConnectTimeout,
            Dial: m.DialConfig is { } dial && !dial.IsEmpty() ? dial : null,
            ChannelNum: m.ChannelNum,
            IgnorePartition: m.IgnorePartition,
            Host: string.IsNullOrEmpty(m.Host) ? null : m.Host,
            Port: m.Port,
            EnableTls: m.EnableTls,
            Username: string.IsNullOrEmpty(m.Username) ? null : m.Username,
            Password: string.IsNullOrEmpty(m.Password) ? null : secrets.Protect(m.Password),
            Token: string.IsNullOrEmpty(m.Token) ? null : secrets.Protect(m.Token));
        var rpc = request.RpcChannelInfo is { } r && (!string.IsNullOrEmpty(r.Name) || !string.IsNullOrEmpty(r.Position)) ? r : null;
        return new TaskDefinition(target, new CollectionSelection(request.CollectionInfos, request.DbCollections), rpc, request.DisableAutoStart,
            request.NameMapping is { Count: > 0 } mappings ? mappings : null,
            request.StartFrom is { } start && ReplicationStart.Parse(start) is { Kind: not ReplicationStartKind.Latest } parsed ? parsed : null,
            ApplyModes.Parse(request.ApplyMode) ?? ApplyMode.Replicate);
    }
}
