using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cdc.Api.Http;

/// <summary>
/// The response envelope <c>{"code", "message"?, "data"?}</c>. The HTTP status equals <c>code</c>, so that both a
/// plain HTTP client and a client reading the body see the same outcome.
/// </summary>
public static class CdcResponse
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IResult Ok(JsonObject data) => Write(200, null, w => data.WriteTo(w));

    /// <summary>An envelope whose <c>data</c> <paramref name="writeData"/> writes as one JSON value.</summary>
    public static IResult Ok(Action<Utf8JsonWriter> writeData) => Write(200, null, writeData);

    public static IResult Error(int code, string message) => Write(code, message, null);

    private static IResult Write(int code, string? message, Action<Utf8JsonWriter>? writeData)
    {
        // Straight to UTF-8: a list of 100 tasks is about 45 KB of JSON, which as a .NET string (UTF-16) would be a
        // large-object-heap allocation per request, and those bring on full collections.
        var body = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(body, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteNumber("code", code);
            if (!string.IsNullOrEmpty(message)) w.WriteString("message", message);
            if (writeData is not null)
            {
                w.WritePropertyName("data");
                writeData(w);
            }

            w.WriteEndObject();
        }

        body.Write("\n"u8);
        return new Envelope(code, body.WrittenMemory);
    }

    /// <summary>The envelope's UTF-8 bytes and a closing newline, with the envelope's code as the HTTP status.</summary>
    private sealed class Envelope(int code, ReadOnlyMemory<byte> utf8) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
    {
        public int? StatusCode => code;

        public string ContentType => "application/json; charset=utf-8";

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = code;
            response.ContentType = ContentType;
            response.ContentLength = utf8.Length;
            await response.BodyWriter.WriteAsync(utf8, httpContext.RequestAborted);
        }
    }
}
