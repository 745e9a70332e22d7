using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.ObjectPool;

namespace Cdc.Api.Http;

/// <summary>
/// The response envelope <c>{"code", "message"?, "data"?}</c>. The HTTP status equals <c>code</c>, so that both a
/// plain HTTP client and a client reading the body see the same outcome.
/// </summary>
public static class CdcResponse
{
    /// <summary>
    /// Buffers the envelopes are written into, kept for the next answer once the bytes were handed to Kestrel: a list of
    /// 100 tasks grew a fresh buffer from 1 KB to 64 KB on every request (six arrays, each copied into the next), which
    /// was a quarter of the server's sampled time under 16 clients listing. Enough are kept for the clients of a busy server;
    /// a buffer that grew past <see cref="LargestKeptBuffer"/> (a list of thousands of tasks) is left to the GC.
    /// </summary>
    private static readonly ObjectPool<ArrayBufferWriter<byte>> Buffers =
        new DefaultObjectPoolProvider { MaximumRetained = 64 }.Create(new BufferPolicy());

    private const int LargestKeptBuffer = 256 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IResult Ok(JsonObject data) => Write(200, null, w => data.WriteTo(w));

    /// <summary>An envelope whose <c>data</c> <paramref name="writeData"/> writes as one JSON value.</summary>
    public static IResult Ok(Action<Utf8JsonWriter> writeData) => Write(200, null, writeData);

    public static IResult Error(int code, string message) => Write(code, message, null);

    private static IResult Write(int code, string? message, Action<Utf8JsonWriter>? writeData)
    {
        // Straight to UTF-8: a list of 100 tasks is about 45 KB of JSON, which as a .NET string (UTF-16) would be a
        // large-object-heap allocation per request, and those bring on full collections.
        var body = Buffers.Get();
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
        return new Envelope(code, body);
    }

    private sealed class BufferPolicy : PooledObjectPolicy<ArrayBufferWriter<byte>>
    {
        public override ArrayBufferWriter<byte> Create() => new(16 * 1024);

        public override bool Return(ArrayBufferWriter<byte> buffer)
        {
            if (buffer.Capacity > LargestKeptBuffer) return false;
            buffer.ResetWrittenCount();
            return true;
        }
    }

    /// <summary>
    /// The envelope's UTF-8 bytes and a closing newline, with the envelope's code as the HTTP status. Its buffer goes back
    /// to <see cref="Buffers"/> once written to the response (Kestrel has copied the bytes by then); an envelope that is
    /// never executed leaves its buffer to the GC.
    /// </summary>
    private sealed class Envelope(int code, ArrayBufferWriter<byte> body) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
    {
        public int? StatusCode => code;

        public string ContentType => "application/json; charset=utf-8";

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = code;
            response.ContentType = ContentType;
            response.ContentLength = body.WrittenCount;
            try
            {
                await response.BodyWriter.WriteAsync(body.WrittenMemory, httpContext.RequestAborted);
            }
            finally
            {
                Buffers.Return(body);
            }
        }
    }
}
