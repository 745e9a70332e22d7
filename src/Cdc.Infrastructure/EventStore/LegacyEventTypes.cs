using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// How the previous version of this server (its own event store, before Marten) stored events: names, versions, JSON
/// options and the upcasters of old versions. Only <see cref="LegacyEventStoreMigration"/> reads with it.
/// </summary>
public sealed class LegacyEventTypes
{
    private readonly Dictionary<Type, (string Alias, int Version)> _byType = new();
    private readonly Dictionary<string, Type> _byAlias = new();
    private readonly Dictionary<(string Alias, int FromVersion), Func<JsonObject, JsonObject>> _upcasters = new();

    public LegacyEventTypes()
    {
        Register<TaskCreated>("task_created", 1);
        // v1 of task_paused carried no reason: every pause then came from the HTTP interface.
        Register<TaskPaused>("task_paused", 2);
        Upcast("task_paused", 1, json => { json["reason"] ??= TaskPaused.ManualReason; return json; });
        Register<TaskResumed>("task_resumed", 1);
        Register<TaskDeleted>("task_deleted", 1);
        Register<ChannelCheckpointed>("channel_checkpointed", 1);
    }

    public static JsonSerializerOptions SerializerOptions { get; } = CreateOptions();

    public (string Alias, int Version) Describe(object e) =>
        _byType.TryGetValue(e.GetType(), out var d) ? d : throw new InvalidOperationException($"event type {e.GetType().Name} is not registered");

    public string Serialize(object e) => JsonSerializer.Serialize(e, e.GetType(), SerializerOptions);

    public object Deserialize(string alias, int version, string json)
    {
        if (!_byAlias.TryGetValue(alias, out var type))
            throw new InvalidOperationException($"unknown stored event type '{alias}'");
        var current = _byType[type].Version;
        if (version != current)
        {
            var node = JsonNode.Parse(json)!.AsObject();
            for (var v = version; v < current; v++)
            {
                if (!_upcasters.TryGetValue((alias, v), out var up))
                    throw new InvalidOperationException($"no upcaster for '{alias}' from version {v}");
                node = up(node);
            }
            json = node.ToJsonString();
        }
        return JsonSerializer.Deserialize(json, type, SerializerOptions)
               ?? throw new InvalidOperationException($"stored event '{alias}' is null");
    }

    private void Register<T>(string alias, int version)
    {
        _byType[typeof(T)] = (alias, version);
        _byAlias[alias] = typeof(T);
    }

    private void Upcast(string alias, int fromVersion, Func<JsonObject, JsonObject> upcaster) =>
        _upcasters[(alias, fromVersion)] = upcaster;

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.Converters.Add(new ProtectedSecretConverter());
        return options;
    }

    /// <summary>A protected secret is stored as its ciphertext string.</summary>
    private sealed class ProtectedSecretConverter : JsonConverter<ProtectedSecret>
    {
        public override ProtectedSecret Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            new(reader.GetString() ?? "");

        public override void Write(Utf8JsonWriter writer, ProtectedSecret value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Ciphertext);
    }
}
