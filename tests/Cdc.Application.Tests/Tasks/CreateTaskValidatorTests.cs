using Cdc.Application.Tasks.CreatingTask;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Tests.Tasks;

/// <summary>The validator on its own: rule order and the field each failure names.</summary>
public sealed class CreateTaskValidatorTests
{
    private readonly CreateTaskValidator _validator = new(new CdcLimits(100, 10, "by-dev-replicate-msg"));
    private static readonly MilvusConnectParam Target = new(Uri: "http://localhost:19530", ConnectTimeout: 10);
    private static readonly CollectionInfo[] All = [new("*")];

    private (string Field, string Message)? FirstFailure(CreateTask request) =>
        _validator.Validate(request).Errors.FirstOrDefault() is { } f ? (f.PropertyName, f.ErrorMessage) : null;

    [Fact]
    public void The_seed_create_is_valid() => Assert.Null(FirstFailure(new CreateTask(Target, All)));

    [Fact]
    public void Checks_run_in_the_reference_order_and_stop_at_the_first()
    {
        // Both the target and the collections are wrong: the target is reported, as the reference does.
        var failure = FirstFailure(new CreateTask(Target with { ConnectTimeout = -1 }, []));
        Assert.Equal(("milvus_connect_param.connect_timeout", "the milvus connect timeout is less zero"), failure);
    }

    [Fact]
    public void Names_are_measured_against_maxNameLength()
    {
        var dbs = new Dictionary<string, IReadOnlyList<CollectionInfo>> { ["eleven_char"] = All };
        Assert.Equal(("db_collections", "the db name length exceeds 10 characters, eleven_char"), FirstFailure(new CreateTask(Target, null, dbs)));
        dbs = new Dictionary<string, IReadOnlyList<CollectionInfo>> { ["ten_chars_"] = All };
        Assert.Null(FirstFailure(new CreateTask(Target, null, dbs)));
    }

    [Fact]
    public void The_rpc_channel_must_be_the_configured_one_or_empty()
    {
        Assert.Null(FirstFailure(new CreateTask(Target, All, RpcChannelInfo: new RpcChannelInfo("by-dev-replicate-msg", null))));
        Assert.Null(FirstFailure(new CreateTask(Target, All, RpcChannelInfo: new RpcChannelInfo("", "AAAA"))));
        Assert.Equal("rpc_channel_info.name", FirstFailure(new CreateTask(Target, All, RpcChannelInfo: new RpcChannelInfo("x", null)))!.Value.Field);
    }

    [Fact]
    public void The_deprecated_host_form_needs_a_port()
    {
        Assert.Null(FirstFailure(new CreateTask(new MilvusConnectParam(Host: "h", Port: 19530), All)));
        Assert.Equal("milvus_connect_param.port", FirstFailure(new CreateTask(new MilvusConnectParam(Host: "h"), All))!.Value.Field);
    }

    [Fact]
    public void The_apply_mode_is_replicate_or_upsert()
    {
        Assert.Null(FirstFailure(new CreateTask(Target, All, ApplyMode: "upsert")));
        Assert.Null(FirstFailure(new CreateTask(Target, All, ApplyMode: "replicate")));
        Assert.Equal(("apply_mode", "the apply mode must be \"replicate\" (the default) or \"upsert\", got \"UPSERT\""),
            FirstFailure(new CreateTask(Target, All, ApplyMode: "UPSERT")));
    }
}
