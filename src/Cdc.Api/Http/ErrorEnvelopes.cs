using Microsoft.AspNetCore.Diagnostics;

namespace Cdc.Api.Http;

/// <summary>
/// Answers that no endpoint wrote in the documented envelope <c>{"code": n, "message": "..."}</c>, HTTP status =
/// code: an error status without a body (a path that does not exist, a method an endpoint does not take, a request
/// the framework refused) gets one, and an exception no endpoint caught becomes a 500 with an incident id that the
/// log names beside the exception.
/// </summary>
public static class ErrorEnvelopes
{
    public static void Use(IApplicationBuilder app)
    {
        app.Use(CloseAfterRefusedBodies);
        // The fault is logged once, by WriteFaultAsync with its incident id, not a second time by the middleware.
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteFaultAsync, SuppressDiagnosticsCallback = _ => true });
        app.UseStatusCodePages(context => WriteStatusAsync(context.HttpContext));
    }

    /// <summary>
    /// An error answer to a request with a body closes the connection (<c>Connection: close</c>): the body may not have
    /// been read (a refused method, content type or size, a missing token), and Kestrel would otherwise close the
    /// connection on its own when the rest is larger than it drains, after the answer, under a client that believes
    /// it can send the next request on it.
    /// </summary>
    private static Task CloseAfterRefusedBodies(HttpContext http, RequestDelegate next)
    {
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            http.Response.OnStarting(() =>
            {
                if (http.Response.StatusCode >= StatusCodes.Status400BadRequest) http.Response.Headers.Connection = "close";
                return Task.CompletedTask;
            });
        }

        return next(http);
    }

    private static Task WriteStatusAsync(HttpContext http)
    {
        var code = http.Response.StatusCode;
        var message = code switch
        {
            StatusCodes.Status404NotFound => "there is nothing at this path: the API is POST /cdc",
            StatusCodes.Status405MethodNotAllowed => http.Response.Headers.Allow is { Count: > 0 } allow
                ? $"the method {http.Request.Method} is not allowed here, only {allow}"
                : $"the method {http.Request.Method} is not allowed here",
            StatusCodes.Status413PayloadTooLarge => "the request body is too large",
            _ => $"the request cannot be served (HTTP {code})",
        };
        return CdcResponse.Error(code, message).ExecuteAsync(http);
    }

    private static Task WriteFaultAsync(HttpContext http)
    {
        var incident = Guid.NewGuid().ToString("N")[..12];
        var fault = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Cdc.Api")
            .LogError(fault, "{Method} {Path} failed (incident {Incident})", http.Request.Method, http.Request.Path, incident);
        return CdcResponse.Error(500, $"internal error, incident {incident} in the server log").ExecuteAsync(http);
    }
}
