using System.Text.Json.Nodes;
using Cdc.Api.Hosting;

namespace Cdc.Api.Http;

/// <summary>
/// <c>GET /readyz</c>: 200 <c>{"status":"ready","checks":{...}}</c> when the server can take requests, 503
/// <c>{"status":"not ready","not_ready":[...],"checks":{...}}</c> naming what is not ready. (<c>/healthz</c>, the
/// process being up, is mapped in Program.) Both are open when API tokens are configured.
/// </summary>
public static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/readyz", async (ReadinessProbe probe, HttpContext ctx) =>
        {
            var readiness = await probe.CheckAsync(ctx.RequestAborted);
            var checks = new JsonObject();
            foreach (var (name, outcome) in readiness.Checks) checks[name] = outcome;
            var body = new JsonObject { ["status"] = readiness.IsReady ? "ready" : "not ready" };
            if (!readiness.IsReady) body["not_ready"] = new JsonArray(readiness.NotReady.Select(n => (JsonNode)n).ToArray());
            body["checks"] = checks;
            return Results.Text(body.ToJsonString() + "\n", "application/json", System.Text.Encoding.UTF8,
                readiness.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).AllowAnonymous();
}
