using System.Buffers;
using System.Runtime.CompilerServices;
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
    /// <remarks>
    /// A task whose answer does not depend on the time (no channel with a lag to measure, no catch-up verdict that can go
    /// stale: a task that has no checkpoint yet, say one whose source cannot be reached) is written once per view and
    /// kept as UTF-8 JSON beside it (<see cref="KeptAnswers"/>): a view is an immutable record (its positions and run
    /// report included), and get and list hand out the same instance for as long as it is current. Escaping and
    /// transcoding its strings on every answer was most of the server's CPU for a list of such tasks. Any other task is
    /// written at each answer. (Keeping the members up to <c>reason</c> of those and joining them with the rest at each
    /// answer made no difference that the API benchmark could measure, so it is not done.)
    /// </remarks>
    public static void Task(Utf8JsonWriter w, TaskView t, DateTimeOffset now, string? replicateChannel = null)
    {
        if (DependsOnTime(t, replicateChannel)) WriteAtOnce(w, t, now, replicateChannel);
        else w.WriteRawValue(Kept(t, now, replicateChannel, w.Options), skipInputValidation: true);
    }

    /// <summary>
    /// Whether the answer for <paramref name="t"/> changes with the time: a channel's <c>lag_ms</c> (and the health's),
    /// or a catch-up verdict that turns false once its check is <see cref="TaskCatchUp.StaleAfter"/> old.
    /// </summary>
    private static bool DependsOnTime(TaskView t, string? replicateChannel)
    {
        foreach (var p in t.Positions)
            if (p.Channel != replicateChannel) return true;
        return TaskCatchUp.DependsOnTime(t);
    }

    /// <summary>The task object written at <paramref name="now"/> (nothing kept).</summary>
    internal static void WriteAtOnce(Utf8JsonWriter w, TaskView t, DateTimeOffset now, string? replicateChannel)
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
    /// The answers of views that do not depend on the time, kept while the view lives (keyed by the instance, not by
    /// value). Written again for other writer options (escaping, indentation) or another replicate channel.
    /// </summary>
    private static readonly ConditionalWeakTable<TaskView, KeptAnswer> KeptAnswers = new();

    private sealed record KeptAnswer(byte[] Json, JsonWriterOptions Options, string? ReplicateChannel);

    private static byte[] Kept(TaskView t, DateTimeOffset now, string? replicateChannel, JsonWriterOptions options)
    {
        if (KeptAnswers.TryGetValue(t, out var kept) && SameOutput(kept.Options, options) && kept.ReplicateChannel == replicateChannel)
            return kept.Json;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, options)) WriteAtOnce(w, t, now, replicateChannel);
        var json = buffer.WrittenSpan.ToArray();
        KeptAnswers.AddOrUpdate(t, new KeptAnswer(json, options, replicateChannel));
        return json;
    }

    private static bool SameOutput(JsonWriterOptions a, JsonWriterOptions b) =>
        a.Indented == b.Indented && ReferenceEquals(a.Encoder, b.Encoder) && a.IndentCharacter == b.IndentCharacter
        && a.IndentSize == b.IndentSize && a.NewLine == b.NewLine;

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
