using System.Text.Json.Nodes;
using Cdc.Application.Auditing;
using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cdc.Api.Http;

/// <summary>
/// Renders tasks in the shape of the seed documents: the keys of the reference's task object, values left out
/// when they are empty or at their default (so a plain task shows exactly uri and connect_timeout).
/// Credentials never reach this point: the projection strips them.
/// </summary>
public static class TaskJson
{
    /// <summary>
    /// A task at <paramref name="now"/> (its health's lag is measured against it, over the channels other than the
    /// source's <paramref name="replicateChannel"/>).
    /// </summary>
    public static JsonObject Task(TaskView t, DateTimeOffset now, string? replicateChannel = null)
    {
        var o = new JsonObject
        {
            ["task_id"] = t.TaskId,
            ["milvus_connect_param"] = Target(t.Target),
        };
        if (t.Selection.CollectionInfos is { } infos) o["collection_infos"] = Collections(infos);
        if (t.Selection.DbCollections is { } dbs)
            o["db_collections"] = new JsonObject(dbs.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Collections(kv.Value))));
        if (t.NameMappings is { Count: > 0 } mappings) o["name_mapping"] = NameMappings(mappings);
        if (t.Start is { } start) o["start_from"] = start.ToString();
        if (t.RpcChannel is { } rpc) o["rpc_channel_info"] = Compact(new JsonObject { ["name"] = rpc.Name, ["position"] = rpc.Position });
        if (t.DisableAutoStart) o["disable_auto_start"] = true;
        if (t.ApplyMode != ApplyMode.Replicate) o["apply_mode"] = ApplyModes.Name(t.ApplyMode);
        o["state"] = t.State.ToString();
        if (!string.IsNullOrEmpty(t.Reason)) o["reason"] = t.Reason;
        if (t.Positions.Count > 0) o["position"] = Positions(t.Positions, now, replicateChannel);
        if (TaskHealth.Of(t, now, replicateChannel) is { } health) o["health"] = Health(health);
        if (TaskCatchUp.Of(t, now) is { } catchUp) CatchUp(o, catchUp);
        return o;
    }

    /// <summary>
    /// <c>caught_up</c> once the task has run, with <c>caught_up_since</c> and <c>caught_up_as_of</c> while it is true.
    /// </summary>
    private static void CatchUp(JsonObject o, TaskCatchUp c)
    {
        o["caught_up"] = c.CaughtUp;
        if (c.Since is { } since) o["caught_up_since"] = since;
        if (c.AsOf is { } asOf) o["caught_up_as_of"] = asOf;
    }

    /// <summary>The task's health; left out of a task that has neither a checkpoint nor an error to show.</summary>
    private static JsonObject Health(TaskHealth h) => Compact(new JsonObject
    {
        ["status"] = h.Status,
        ["lag_ms"] = h.LagMs,
        ["last_error"] = h.LastError,
        ["last_error_time"] = h.LastErrorAt,
    });

    public static JsonArray Positions(IEnumerable<ChannelPosition> positions) =>
        new(positions.Select(p => (JsonNode)new JsonObject
        {
            ["channel_name"] = p.Channel,
            ["msg_id"] = p.Position,
            ["tt"] = p.Timestamp,
            ["time"] = (long)(p.Timestamp >> 18),
            ["checkpointed_at"] = p.CheckpointedAt,
        }).ToArray());

    /// <summary>
    /// The checkpoints as get and list show them: each with its channel's <c>lag_ms</c> at <paramref name="now"/>, but for
    /// <paramref name="replicateChannel"/>, which carries no time ticks.
    /// </summary>
    private static JsonArray Positions(IReadOnlyList<ChannelPosition> positions, DateTimeOffset now, string? replicateChannel)
    {
        var entries = Positions(positions);
        for (var i = 0; i < positions.Count; i++)
            if (positions[i].Channel != replicateChannel) entries[i]!["lag_ms"] = TaskHealth.LagAt(positions[i].Timestamp, now);
        return entries;
    }

    public static JsonObject Audit(AuditEntry e) => new()
    {
        ["seq"] = e.Sequence,
        ["stream_id"] = e.StreamId,
        ["version"] = e.Version,
        ["type"] = e.Type,
        ["timestamp"] = e.Timestamp,
        ["data"] = System.Text.Json.JsonSerializer.SerializeToNode(e.Data, e.Data.GetType(), AuditSerializer),
    };

    private static JsonObject Target(MilvusTarget m)
    {
        var o = new JsonObject();
        if (m.Host is not null) o["host"] = m.Host;
        if (m.Port != 0) o["port"] = m.Port;
        if (m.EnableTls) o["enable_tls"] = true;
        o["uri"] = m.Uri;
        if (m.Dial is { } d && !d.IsEmpty())
            o["dial_config"] = Compact(new JsonObject
            {
                ["server_name"] = d.ServerName, ["server_pem_path"] = d.ServerPemPath, ["ca_pem_path"] = d.CaPemPath,
                ["client_pem_path"] = d.ClientPemPath, ["client_key_path"] = d.ClientKeyPath,
            });
        if (m.ChannelNum != 0) o["channel_num"] = m.ChannelNum;
        if (m.IgnorePartition) o["ignore_partition"] = true;
        o["connect_timeout"] = m.ConnectTimeoutSeconds;
        return o;
    }

    private static JsonArray Collections(IEnumerable<CollectionInfo> infos) =>
        new(infos.Select(i =>
        {
            var o = new JsonObject { ["name"] = i.Name };
            if (i.Positions is { Count: > 0 } p) o["positions"] = new JsonObject(p.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
            if (i.UseStartPosition) o["use_start_position"] = true;
            return (JsonNode)o;
        }).ToArray());

    private static JsonArray NameMappings(IEnumerable<NameMapping> mappings) =>
        new(mappings.Select(m =>
        {
            var o = new JsonObject { ["source_db"] = m.SourceDb, ["target_db"] = m.TargetDb };
            if (m.CollectionMapping is { Count: > 0 } c)
                o["collection_mapping"] = new JsonObject(c.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
            return (JsonNode)o;
        }).ToArray());

    /// <summary>
    /// How audit output renders event data: the API's own format (snake_case keys, enums by name, nulls left out), not
    /// the storage format of the event store, and a secret only ever as the mask.
    /// </summary>
    private static readonly JsonSerializerOptions AuditSerializer = CreateAuditSerializer();

    private static JsonSerializerOptions CreateAuditSerializer()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.Converters.Add(new MaskedSecretConverter());
        return options;
    }

    private sealed class MaskedSecretConverter : JsonConverter<ProtectedSecret>
    {
        public override ProtectedSecret Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("audit output is written, never read");

        public override void Write(Utf8JsonWriter writer, ProtectedSecret value, JsonSerializerOptions options) =>
            writer.WriteStringValue(ProtectedSecret.Mask);
    }

    private static JsonObject Compact(JsonObject o)
    {
        foreach (var key in o.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList()) o.Remove(key);
        return o;
    }
}
