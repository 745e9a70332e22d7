using System.Text.Json;
using System.Text.Json.Serialization;
using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using JasperFx.Events;
using JasperFx.Events.Projections;
using JasperFx.MultiTenancy;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Weasel.Core;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// The event store on Marten: one PostgreSQL schema, conjoined tenants (<c>metaStoreConfig.rootPath</c>), string
/// stream ids (a task's id; <c>{task}/{channel}</c> for checkpoints, <c>{task}/target/{channel}</c> for target time), stable event names, and the inline projections
/// behind get, list and position. Appends use Marten's "rich" mode, which checks an expected stream version.
/// </summary>
public static class MartenStoreSetup
{
    /// <summary>The stable names under which events are stored (and shown by the audit queries).</summary>
    public static IReadOnlyDictionary<Type, string> EventNames { get; } = new Dictionary<Type, string>
    {
        [typeof(TaskCreated)] = "task_created",
        [typeof(TaskPaused)] = "task_paused",
        [typeof(TaskResumed)] = "task_resumed",
        [typeof(TaskDeleted)] = "task_deleted",
        [typeof(ChannelCheckpointed)] = "channel_checkpointed",
        [typeof(TargetTimeReserved)] = "target_time_reserved",
    };

    /// <summary>Registers the Marten store; the caller chains further integration (the server adds Wolverine).</summary>
    public static MartenServiceCollectionExtensions.MartenConfigurationExpression AddCdcEventStore(
        this IServiceCollection services, string connectionString, EventStoreOptions options)
    {
        services.AddSingleton(options);
        var changes = new TaskViewChanges(options);
        services.AddSingleton(changes);
        return services.AddMarten(sp =>
        {
            var o = new StoreOptions();
            Configure(o, connectionString, options, changes, new TaskViewChangeNotices(sp.GetService<ILogger<TaskViewChangeNotices>>()));
            return o;
        });
    }

    /// <param name="changes">this process's record of task view changes, told of each commit (null: none kept).</param>
    /// <param name="notices">sends the notices of each commit to the other servers (null: one without a logger).</param>
    public static void Configure(StoreOptions o, string connectionString, EventStoreOptions options, TaskViewChanges? changes = null,
        TaskViewChangeNotices? notices = null)
    {
        o.Connection(connectionString);
        o.DatabaseSchemaName = options.Schema;
        o.Events.DatabaseSchemaName = options.Schema;
        o.Events.StreamIdentity = StreamIdentity.AsString;
        o.Events.TenancyStyle = TenancyStyle.Conjoined;
        o.Events.AppendMode = EventAppendMode.Rich;
        o.Policies.AllDocumentsAreMultiTenanted();
        o.AutoCreateSchemaObjects = JasperFx.AutoCreate.CreateOrUpdate;
        o.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.SnakeCase, json =>
        {
            json.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            json.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
            json.Converters.Add(new ProtectedSecretConverter());
        });
        foreach (var (type, name) in EventNames) o.Events.MapEventType(type, name);

        o.Schema.For<TaskView>().Identity(v => v.TaskId);
        o.Schema.For<ChannelPositionDocument>().Index(p => p.TaskId);
        o.Schema.For<TaskRuntimeDocument>();
        o.Schema.For<TargetTimeDocument>().Index(t => t.TaskId);
        o.Projections.Add(new TaskViewProjection(), ProjectionLifecycle.Inline);
        o.Projections.Add(new ChannelPositionProjection(), ProjectionLifecycle.Inline);
        o.Projections.Add(new TaskDeletionProjection(), ProjectionLifecycle.Inline);
        o.Projections.Add(new TargetTimeProjection(), ProjectionLifecycle.Inline);
        o.Projections.Add(new TargetTimeDeletionProjection(), ProjectionLifecycle.Inline);
        o.Listeners.Add(new TaskViewChangeNotifier(options.Schema, changes, notices ?? new TaskViewChangeNotices()));
    }

    /// <summary>A protected secret is stored as its ciphertext string (never the plain text, which it never holds).</summary>
    private sealed class ProtectedSecretConverter : JsonConverter<ProtectedSecret>
    {
        public override ProtectedSecret Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            new(reader.GetString() ?? "");

        public override void Write(Utf8JsonWriter writer, ProtectedSecret value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Ciphertext);
    }
}
