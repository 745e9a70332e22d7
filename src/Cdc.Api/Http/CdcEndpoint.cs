using System.Text.Json;
using System.Text.Json.Nodes;
using Cdc.Api.Metrics;
using Cdc.Application.EventStore;
using Cdc.Application.Validation;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Configuration;
using MediatR;
using Microsoft.AspNetCore.Http.Features;

namespace Cdc.Api.Http;

/// <summary>
/// <c>POST /cdc</c>: reads the envelope <c>{"request_type", "request_data"}</c>, sends the matching request
/// through MediatR and answers in the seed documents' shapes. Every failure is an envelope with a non-200 code
/// equal to the HTTP status and a message naming the field; nothing is stored unless the whole command succeeds.
/// </summary>
public static class CdcEndpoint
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 32 };

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/cdc", HandleAsync).AddEndpointFilter<CdcRequestMetricsFilter>();
        // Every other method, WebDAV's and unknown ones included: an endpoint without a method constraint, which
        // routing ranks below the POST endpoint for POST requests.
        app.Map("/cdc", (HttpContext ctx) =>
        {
            ctx.Response.Headers.Allow = "POST";
            return CdcResponse.Error(405, "only support the POST method");
        }).AddEndpointFilter<CdcRequestMetricsFilter>();
    }

    private static async Task<IResult> HandleAsync(HttpContext ctx, IMediator mediator, CdcConfig config, ILoggerFactory loggers, TimeProvider clock)
    {
        var contentType = ctx.Request.ContentType;
        if (contentType is null || !contentType.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase))
            return CdcResponse.Error(415, $"the request content type must be application/json, got '{contentType ?? "none"}'");

        var limit = config.MaxRequestBytes;
        if (ctx.Request.ContentLength > limit) return TooLarge(limit);
        // The limit is counted here, on the body's bytes, however they are framed: Kestrel's own limit counts a
        // chunked body's framing too and would refuse a body just under maxRequestBytes.
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } kestrelLimit) kestrelLimit.MaxRequestBodySize = null;
        byte[] body;
        try
        {
            body = await ReadLimitedAsync(ctx.Request.Body, ctx.Request.ContentLength, limit, ctx.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return TooLarge(limit);
        }
        catch (IOException ex)
        {
            return CdcResponse.Error(400, $"fail to read the request body, error: {ex.Message}");
        }
        CdcRequestObservation.Of(ctx)?.BodyRead();

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, JsonOptions);
        }
        catch (JsonException ex)
        {
            return CdcResponse.Error(400, $"fail to unmarshal the request, error: {ex.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return CdcResponse.Error(400, "fail to unmarshal the request, error: the body must be a JSON object with request_type and request_data");
            if (RequestText.FirstUnreadable(root) is { } unreadable)
                return CdcResponse.Error(400, $"fail to unmarshal the request, error: {unreadable.Message}");
            var envelope = new RequestData(root, "");
            string? type;
            RequestData data;
            try
            {
                type = envelope.String("request_type");
                data = envelope.Object("request_data");
            }
            catch (InvalidRequest ex)
            {
                return CdcResponse.Error(400, $"fail to unmarshal the request, error: {ex.Message}");
            }
            CdcRequestObservation.Of(ctx)?.EnvelopeRead(type is not null && CdcRequests.Types.Contains(type) ? type : null);
            if (string.IsNullOrEmpty(type) || !CdcRequests.Types.Contains(type))
                return CdcResponse.Error(400, $"invalid 'request_type' param, can be set [{string.Join(", ", CdcRequests.Types)}]");
            data = new RequestData(data.IsPresent ? root.GetProperty(PropertyName(root, "request_data")) : default, "");

            try
            {
                return CdcResponse.Ok(await DispatchAsync(type, data, mediator, clock, config.Source.ReplicateChan, ctx.RequestAborted));
            }
            catch (Exception ex) when (ToError(ex) is { } error)
            {
                return CdcResponse.Error(error.Code, $"fail to handle the {type} request, error: {error.Message}");
            }
            catch (Exception ex) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                var incident = Guid.NewGuid().ToString("N")[..12];
                loggers.CreateLogger("Cdc.Api").LogError(ex, "{RequestType} request failed (incident {Incident})", type, incident);
                return CdcResponse.Error(500, $"fail to handle the {type} request, error: internal error, incident {incident} in the server log");
            }
        }
    }

    private static async Task<Action<Utf8JsonWriter>> DispatchAsync(
        string type, RequestData d, IMediator mediator, TimeProvider clock, string replicateChannel, CancellationToken ct)
    {
        switch (type)
        {
            case "create":
                return Data(new JsonObject { ["task_id"] = await mediator.Send(CdcRequests.Create(d), ct) });
            case "pause":
                await mediator.Send(CdcRequests.Pause(d), ct);
                return Data([]);
            case "resume":
                await mediator.Send(CdcRequests.Resume(d), ct);
                return Data([]);
            case "delete":
                await mediator.Send(CdcRequests.Delete(d), ct);
                return Data([]);
            case "get":
                var view = await mediator.Send(CdcRequests.Get(d), ct);
                var at = clock.GetUtcNow();
                return Field("Task", w => TaskJson.Task(w, view, at, replicateChannel));
            case "list":
                var tasks = await mediator.Send(CdcRequests.List(d), ct);
                var now = clock.GetUtcNow();
                return Field("tasks", w =>
                {
                    w.WriteStartArray();
                    foreach (var t in tasks) TaskJson.Task(w, t, now, replicateChannel);
                    w.WriteEndArray();
                });
            case "position":
                var task = await mediator.Send(CdcRequests.Get(d), ct);
                return Field("positions", w => TaskJson.Positions(w, task.Positions));
            case "events":
                if (d.String("task_id") is { Length: > 0 })
                {
                    var entries = await mediator.Send(CdcRequests.TaskEvents(d), ct);
                    return Data(new JsonObject { ["events"] = new JsonArray(entries.Select(e => (JsonNode)TaskJson.Audit(e)).ToArray()) });
                }
                var page = await mediator.Send(CdcRequests.Feed(d), ct);
                return Data(FeedPage(page));
            default:
                throw new InvalidOperationException($"unhandled request type {type}");
        }
    }

    private static Action<Utf8JsonWriter> Data(JsonObject data) => w => data.WriteTo(w);

    /// <summary>The data <c>{"name": value}</c>, its one value written by <paramref name="writeValue"/>.</summary>
    private static Action<Utf8JsonWriter> Field(string name, Action<Utf8JsonWriter> writeValue) => w =>
    {
        w.WriteStartObject();
        w.WritePropertyName(name);
        writeValue(w);
        w.WriteEndObject();
    };

    public static JsonObject FeedPage(Application.Auditing.EventFeedPage page) => new()
    {
        ["events"] = new JsonArray(page.Events.Select(e => (JsonNode)TaskJson.Audit(e)).ToArray()),
        ["next"] = page.Next,
        ["high_water_mark"] = page.HighWaterMark,
    };

    /// <summary>The envelope code and inner message of an expected failure; null for a fault of the server.</summary>
    public static (int Code, string Message)? ToError(Exception ex) => ex switch
    {
        InvalidRequest e => (400, e.Message),
        TaskRuleViolation e => (400, e.Message),
        ConcurrencyConflict e => (409, $"{e.StreamId}: the task was changed by a concurrent request; read it again and retry"),
        TaskLimitReached e => (500, e.Message),
        _ => null,
    };

    /// <summary>413; the connection closes after it (see <see cref="ErrorEnvelopes"/>), so the rest of the body is not read.</summary>
    private static IResult TooLarge(int limit) => CdcResponse.Error(413, $"the request body is larger than {limit} bytes");

    private static string PropertyName(JsonElement root, string name) =>
        root.TryGetProperty(name, out _) ? name
        : root.EnumerateObject().First(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Name;

    private static async Task<byte[]> ReadLimitedAsync(Stream body, long? contentLength, int limit, CancellationToken ct)
    {
        // A declared length (already checked against the limit) is read into an array of exactly that size; a body
        // without one (chunked) grows a buffer up to the limit.
        if (contentLength is { } length)
        {
            var exact = new byte[length];
            // A body that ends short is an EndOfStreamException, an IOException like Kestrel's own for it.
            await body.ReadExactlyAsync(exact, ct);
            return exact;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) throw new InvalidDataException();
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
