using System.Text.Json.Nodes;
using Cdc.Application.Auditing;
using MediatR;

namespace Cdc.Api.Http;

/// <summary>
/// Read-only audit queries over HTTP GET: a task's event stream and the global feed from a position
/// (also available as <c>request_type: events</c> on POST /cdc). Secrets are masked.
/// </summary>
public static class AuditEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/cdc/tasks/{taskId}/events", async (string taskId, IMediator mediator, CancellationToken ct) =>
            await RunAsync("events", async () =>
            {
                var entries = await mediator.Send(new ReadTaskEvents(taskId), ct);
                return new JsonObject { ["events"] = new JsonArray(entries.Select(e => (JsonNode)TaskJson.Audit(e)).ToArray()) };
            }));

        app.MapGet("/cdc/events", async (HttpRequest request, IMediator mediator, CancellationToken ct) =>
            await RunAsync("events", async () =>
            {
                var after = Number(request, "after", 0);
                var limit = Number(request, "limit", 100);
                return CdcEndpoint.FeedPage(await mediator.Send(new ReadEventFeed(after, (int)Math.Min(limit, int.MaxValue)), ct));
            }));
    }

    private static long Number(HttpRequest request, string name, long fallback)
    {
        var raw = request.Query[name].ToString();
        if (raw.Length == 0) return fallback;
        return long.TryParse(raw, out var value) ? value : throw new Application.Validation.InvalidRequest(name, $"expected a whole number, got '{raw}'");
    }

    private static async Task<IResult> RunAsync(string type, Func<Task<JsonObject>> query)
    {
        try
        {
            return CdcResponse.Ok(await query());
        }
        catch (Exception ex) when (CdcEndpoint.ToError(ex) is { } error)
        {
            return CdcResponse.Error(error.Code, $"fail to handle the {type} request, error: {error.Message}");
        }
    }
}
