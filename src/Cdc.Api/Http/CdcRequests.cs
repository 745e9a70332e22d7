using System.Text.Json;
using Cdc.Application.Auditing;
using Cdc.Application.Tasks.CreatingTask;
using Cdc.Application.Tasks.DeletingTask;
using Cdc.Application.Tasks.GettingTask;
using Cdc.Application.Tasks.ListingTasks;
using Cdc.Application.Tasks.PausingTask;
using Cdc.Application.Tasks.ResumingTask;
using Cdc.Domain.Tasks;

namespace Cdc.Api.Http;

/// <summary>Turns the <c>request_data</c> of each request type into its application request.</summary>
public static class CdcRequests
{
    public static readonly string[] Types = ["create", "delete", "pause", "resume", "get", "list", "position", "events"];

    public static CreateTask Create(RequestData d)
    {
        var m = d.Object("milvus_connect_param");
        var k = d.Object("kafka_connect_param");
        var b = d.Object("buffer_config");
        var rpc = d.Object("rpc_channel_info");
        return new CreateTask(
            MilvusConnectParam: m.IsPresent ? Milvus(m) : null,
            CollectionInfos: d.Array("collection_infos")?.Select(CollectionInfo).ToList(),
            DbCollections: d.Map("db_collections", (v, field) =>
                v.ValueKind == JsonValueKind.Array
                    ? (IReadOnlyList<CollectionInfo>)v.EnumerateArray().Select((item, i) => item.ValueKind == JsonValueKind.Object
                        ? CollectionInfo(new RequestData(item, $"{field}[{i}]"))
                        : throw RequestData.Wrong($"{field}[{i}]", "an object", item)).ToList()
                    : throw RequestData.Wrong(field, "an array", v)),
            RpcChannelInfo: rpc.IsPresent ? new RpcChannelInfo(rpc.String("name"), rpc.String("position")) : null,
            TaskId: d.String("task_id") is { Length: > 0 } id ? id : null,
            DisableAutoStart: d.Bool("disable_auto_start"),
            KafkaConnectParam: k.IsPresent ? new KafkaConnectParam(k.String("address"), k.String("topic")) : null,
            BufferConfig: b.IsPresent ? new BufferConfig(b.Int("period"), b.Int("size")) : null,
            NameMapping: d.Array("name_mapping")?.Select(n =>
                new NameMapping(n.String("source_db") ?? "", n.String("target_db") ?? "", n.StringMap("collection_mapping"))).ToList(),
            StartFrom: d.String("start_from"),
            ApplyMode: d.String("apply_mode"));
    }

    public static PauseTask Pause(RequestData d) => new(d.String("task_id"));
    public static ResumeTask Resume(RequestData d) => new(d.String("task_id"));
    public static DeleteTask Delete(RequestData d) => new(d.String("task_id"), d.Bool("ignore_not_found"));
    public static GetTask Get(RequestData d) => new(d.String("task_id"));
    public static ListTasks List(RequestData _) => new();
    public static ReadTaskEvents TaskEvents(RequestData d) => new(d.String("task_id"));
    public static ReadEventFeed Feed(RequestData d) => new(d.Int("after"), d.Int("limit", 100));

    private static MilvusConnectParam Milvus(RequestData m)
    {
        var dial = m.Object("dial_config");
        return new MilvusConnectParam(
            Uri: m.String("uri"),
            Token: m.String("token"),
            Host: m.String("host"),
            Port: m.Int("port"),
            EnableTls: m.Bool("enable_tls"),
            Username: m.String("username"),
            Password: m.String("password"),
            ConnectTimeout: m.Int("connect_timeout"),
            DialConfig: dial.IsPresent
                ? new DialConfig(dial.String("server_name"), dial.String("server_pem_path"), dial.String("ca_pem_path"),
                    dial.String("client_pem_path"), dial.String("client_key_path"))
                : null,
            ChannelNum: m.Int("channel_num"),
            IgnorePartition: m.Bool("ignore_partition"));
    }

    private static CollectionInfo CollectionInfo(RequestData c) =>
        new(c.String("name") ?? "", c.StringMap("positions"), c.Bool("use_start_position"));
}
