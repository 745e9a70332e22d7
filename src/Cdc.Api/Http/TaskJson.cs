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
    /// Writes a task at <paramref name="now"/> (its health's lag is measured against it, over the channels other than
    /// the source's <paramref name="replicateChannel"/>). Written straight to the response's JSON writer: a list of
    /// many tasks would otherwise first be built as thousands of JSON nodes.
    /// </summary>
    public static void Task(Utf8JsonWriter w, TaskView t, DateTimeOffset now, string? replicateChannel = null)
    {
        w.WriteStartObject();
        w.WriteString("task_id", t.TaskId);
        w.WritePropertyName("milvus_connect_param");
        Target(w, t.Target);
        if (t.Selection.CollectionInfos is { } infos)
        {
            w.WritePropertyName("collection_infos");
            Collections(w, infos);
        }

        if (t.Selection.DbCollections is { } dbs)
        {
            w.WriteStartObject("db_collections");
            foreach (var (db, collections) in dbs)
            {
                w.WritePropertyName(db);
                Collections(w, collections);
            }

            w.WriteEndObject();
        }

        if (t.NameMappings is { Count: > 0 } mappings) NameMappings(w, mappings);
        if (t.Start is { } start) w.WriteString("start_from", start.ToString());
        if (t.RpcChannel is { } rpc)
        {
            w.WriteStartObject("rpc_channel_info");
            StringIfAny(w, "name", rpc.Name);
            StringIfAny(w, "position", rpc.Position);
            w.WriteEndObject();
        }

        if (t.DisableAutoStart) w.WriteBoolean("disable_auto_start", true);
        if (t.ApplyMode != ApplyMode.Replicate) w.WriteString("apply_mode", ApplyModes.Name(t.ApplyMode));
        w.WriteString("state", t.State.ToString());
        if (!string.IsNullOrEmpty(t.Reason)) w.WriteString("reason", t.Reason);
        if (t.Positions.Count > 0)
        {
            w.WritePropertyName("position");
            Positions(w, t.Positions, now, replicateChannel);
        }

        if (TaskHealth.Of(t, now, replicateChannel) is { } health) Health(w, health);
        if (TaskCatchUp.Of(t, now) is { } catchUp) CatchUp(w, catchUp);
        w.WriteEndObject();
    }

    /// <summary>
    /// <c>caught_up</c> once the task has run, with <c>caught_up_since</c> and <c>caught_up_as_of</c> while it is true.
    /// </summary>
    private static void CatchUp(Utf8JsonWriter w, TaskCatchUp c)
    {
        w.WriteBoolean("caught_up", c.CaughtUp);
        if (c.Since is { } since) w.WriteString("caught_up_since", since);
        if (c.AsOf is { } asOf) w.WriteString("caught_up_as_of", asOf);
    }

    /// <summary>The task's health; left out of a task that has neither a checkpoint nor an error to show.</summary>
    private static void Health(Utf8JsonWriter w, TaskHealth h)
    {
        w.WriteStartObject("health");
        StringIfAny(w, "status", h.Status);
        if (h.LagMs is { } lag) w.WriteNumber("lag_ms", lag);
        StringIfAny(w, "last_error", h.LastError);
        if (h.LastErrorAt is { } at) w.WriteString("last_error_time", at);
        w.WriteEndObject();
    }

    /// <summary>
    /// The checkpoints as get and list show them: each with its channel's <c>lag_ms</c> at <paramref name="now"/>
    /// (null: left out), but for <paramref name="replicateChannel"/>, which carries no time ticks.
    /// </summary>
    public static void Positions(Utf8JsonWriter w, IReadOnlyList<ChannelPosition> positions, DateTimeOffset? now = null, string? replicateChannel = null)
    {
        w.WriteStartArray();
        foreach (var p in positions)
        {
            w.WriteStartObject();
            w.WriteString("channel_name", p.Channel);
            w.WriteString("msg_id", p.Position);
            w.WriteNumber("tt", p.Timestamp);
            w.WriteNumber("time", (long)(p.Timestamp >> 18));
            w.WriteString("checkpointed_at", p.CheckpointedAt);
            if (now is { } at && p.Channel != replicateChannel) w.WriteNumber("lag_ms", TaskHealth.LagAt(p.Timestamp, at));
            w.WriteEndObject();
        }

        w.WriteEndArray();
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

    private static void Target(Utf8JsonWriter w, MilvusTarget m)
    {
        w.WriteStartObject();
        if (m.Host is not null) w.WriteString("host", m.Host);
        if (m.Port != 0) w.WriteNumber("port", m.Port);
        if (m.EnableTls) w.WriteBoolean("enable_tls", true);
        w.WriteString("uri", m.Uri);
        if (m.Dial is { } d && !d.IsEmpty())
        {
            w.WriteStartObject("dial_config");
            StringIfAny(w, "server_name", d.ServerName);
            StringIfAny(w, "server_pem_path", d.ServerPemPath);
            StringIfAny(w, "ca_pem_path", d.CaPemPath);
            StringIfAny(w, "client_pem_path", d.ClientPemPath);
            StringIfAny(w, "client_key_path", d.ClientKeyPath);
            w.WriteEndObject();
        }

        if (m.ChannelNum != 0) w.WriteNumber("channel_num", m.ChannelNum);
        if (m.IgnorePartition) w.WriteBoolean("ignore_partition", true);
        w.WriteNumber("connect_timeout", m.ConnectTimeoutSeconds);
        w.WriteEndObject();
    }

    private static void Collections(Utf8JsonWriter w, IEnumerable<CollectionInfo> infos)
    {
        w.WriteStartArray();
        foreach (var i in infos)
        {
            w.WriteStartObject();
            w.WriteString("name", i.Name);
            if (i.Positions is { Count: > 0 } positions) Strings(w, "positions", positions);
            if (i.UseStartPosition) w.WriteBoolean("use_start_position", true);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void NameMappings(Utf8JsonWriter w, IEnumerable<NameMapping> mappings)
    {
        w.WriteStartArray("name_mapping");
        foreach (var m in mappings)
        {
            w.WriteStartObject();
            w.WriteString("source_db", m.SourceDb);
            w.WriteString("target_db", m.TargetDb);
            if (m.CollectionMapping is { Count: > 0 } c) Strings(w, "collection_mapping", c);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<KeyValuePair<string, string>> entries)
    {
        w.WriteStartObject(name);
        foreach (var (key, value) in entries) w.WriteString(key, value);
        w.WriteEndObject();
    }

    /// <summary>A string property, left out when null (as the compacted objects of the old rendering did).</summary>
    private static void StringIfAny(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

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
}
