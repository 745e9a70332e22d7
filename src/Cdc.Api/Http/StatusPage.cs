using System.Reflection;
using Cdc.Infrastructure.Configuration;

namespace Cdc.Api.Http;

/// <summary>
/// The operator's status page: <c>GET /</c> serves a static HTML shell and <c>/status/status.js</c> fills it from the
/// public API (POST /cdc list, GET /cdc/tasks/{id}/events, GET /cdc/metrics), refreshing by itself. The three files are
/// embedded resources of this assembly, so nothing is built or copied to serve them. The page shows data only through
/// <c>textContent</c>, and its Content-Security-Policy allows no inline script, so a value with markup shows as text.
/// With <c>apiAuth.tokens</c> set, the page asks for a token on the first 401 and sends it as a bearer token (kept in
/// the tab's sessionStorage). <c>statusPage.actions</c> (off by default) adds pause, resume and delete buttons, each confirmed before it is sent.
/// </summary>
public static class StatusPage
{
    /// <summary>Scripts, styles and requests from this origin only; nothing inline, no frames, no forms.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static void Map(IEndpointRouteBuilder app)
    {
        var config = app.ServiceProvider.GetRequiredService<CdcConfig>();
        var html = Asset("index.html").Replace("{{actions}}", config.StatusPage.Actions ? "on" : "off", StringComparison.Ordinal);
        var script = Asset("status.js");
        var style = Asset("status.css");
        // The page's files hold no data (it reads the API, with the token it is given when apiAuth.tokens is set): open.
        app.MapGet("/", (HttpContext ctx) => Serve(ctx, html, "text/html; charset=utf-8")).ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/status/status.js", (HttpContext ctx) => Serve(ctx, script, "text/javascript; charset=utf-8")).ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/status/status.css", (HttpContext ctx) => Serve(ctx, style, "text/css; charset=utf-8")).ExcludeFromDescription().AllowAnonymous();
    }

    private static IResult Serve(HttpContext ctx, string content, string contentType)
    {
        var headers = ctx.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        return Results.Text(content, contentType);
    }

    private static string Asset(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"StatusPage/{name}")
                           ?? throw new InvalidOperationException($"the status page's {name} is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
