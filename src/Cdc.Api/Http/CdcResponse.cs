using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cdc.Api.Http;

/// <summary>
/// The response envelope <c>{"code", "message"?, "data"?}</c>. The HTTP status equals <c>code</c>, so that both a
/// plain HTTP client and a client reading the body see the same outcome.
/// </summary>
public static class CdcResponse
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IResult Ok(JsonObject data) => Write(200, null, data);

    public static IResult Error(int code, string message) => Write(code, message, null);

    private static IResult Write(int code, string? message, JsonObject? data)
    {
        var body = new JsonObject { ["code"] = code };
        if (!string.IsNullOrEmpty(message)) body["message"] = message;
        if (data is not null) body["data"] = data;
        return Results.Text(body.ToJsonString(Options) + "\n", "application/json", System.Text.Encoding.UTF8, code);
    }
}
