using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace Cdc.Infrastructure.Milvus.Grpc;

/// <summary>
/// Unary gRPC calls over HttpClient with HTTP/2 (h2c for http://, ALPN h2 for https://), without Grpc.Net.*.
/// Every request is forced to HTTP/2 exactly, carries "te: trailers", a grpc-timeout and the given metadata; the
/// deadline also cancels the call locally. The status comes from the trailers, or from the headers of a
/// trailers-only response.
/// </summary>
public sealed class GrpcUnaryChannel : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _address;
    private readonly TimeSpan _deadline;
    private readonly TimeProvider _timeProvider;

    public GrpcUnaryChannel(HttpMessageHandler handler, Uri address, TimeSpan deadline, TimeProvider timeProvider)
    {
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _address = address;
        _deadline = deadline;
        _timeProvider = timeProvider;
    }

    public Task<TResponse> CallAsync<TResponse>(
        string method,
        IMessage request,
        MessageParser<TResponse> parser,
        IEnumerable<KeyValuePair<string, string>> metadata,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse> =>
        CallAsync(method, GrpcMessageBody.Of(request), parser, metadata, cancellationToken);

    public async Task<TResponse> CallAsync<TResponse>(
        string method,
        GrpcMessageBody request,
        MessageParser<TResponse> parser,
        IEnumerable<KeyValuePair<string, string>> metadata,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        using var deadline = new CancellationTokenSource(_deadline, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await SendAsync(method, request, parser, metadata, linked.Token);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new GrpcCallException(method, GrpcStatusCode.DeadlineExceeded, $"deadline of {_deadline.TotalMilliseconds:0} ms exceeded", ex);
        }
        catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Connection refused, reset, TLS failure: the call never got a gRPC answer.
            throw new GrpcCallException(method, GrpcStatusCode.Unavailable, $"transport failure: {ex.HttpRequestError}: {ex.Message}", ex);
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GrpcCallException(method, GrpcStatusCode.Unavailable, $"transport failure: {ex.Message}", ex);
        }
    }

    private async Task<TResponse> SendAsync<TResponse>(
        string method,
        GrpcMessageBody request,
        MessageParser<TResponse> parser,
        IEnumerable<KeyValuePair<string, string>> metadata,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_address, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new GrpcRequestContent(request),
        };
        message.Headers.TryAddWithoutValidation("te", "trailers");
        message.Headers.TryAddWithoutValidation("grpc-timeout", FormatTimeout(_deadline));
        foreach (var (key, value) in metadata)
        {
            message.Headers.TryAddWithoutValidation(key, value);
        }

        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new GrpcCallException(method, FromHttpStatus(response.StatusCode), $"HTTP status {(int)response.StatusCode}");
        }

        // Trailers-only response: the status is in the headers and there is no body.
        if (TryReadStatus(response.Headers, out var headerStatus, out var headerMessage))
        {
            ThrowIfNotOk(method, headerStatus, headerMessage);
            throw new GrpcCallException(method, GrpcStatusCode.Internal, "OK status without a response message");
        }

        if (response.Content.Headers.ContentType?.MediaType is not { } mediaType
            || !mediaType.StartsWith(GrpcFraming.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw new GrpcCallException(method, GrpcStatusCode.Unknown, $"unexpected content type '{response.Content.Headers.ContentType}'");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        byte[]? payload;
        try
        {
            payload = await GrpcFraming.ReadMessageAsync(body, cancellationToken);
            // Drain to the end so the trailers arrive.
            while (await GrpcFraming.ReadMessageAsync(body, cancellationToken) is not null)
            {
            }
        }
        catch (InvalidDataException ex)
        {
            throw new GrpcCallException(method, GrpcStatusCode.Internal, ex.Message, ex);
        }

        if (!TryReadStatus(response.TrailingHeaders, out var status, out var statusMessage))
        {
            throw new GrpcCallException(method, GrpcStatusCode.Internal, "response ended without grpc-status");
        }

        ThrowIfNotOk(method, status, statusMessage);
        if (payload is null)
        {
            throw new GrpcCallException(method, GrpcStatusCode.Internal, "OK status without a response message");
        }

        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new GrpcCallException(method, GrpcStatusCode.Internal, $"undecodable response: {ex.Message}", ex);
        }
    }

    private static void ThrowIfNotOk(string method, GrpcStatusCode status, string message)
    {
        if (status != GrpcStatusCode.Ok)
        {
            throw new GrpcCallException(method, status, message);
        }
    }

    private static bool TryReadStatus(HttpHeaders headers, out GrpcStatusCode status, out string message)
    {
        status = GrpcStatusCode.Unknown;
        message = "";
        if (!headers.TryGetValues("grpc-status", out var values))
        {
            return false;
        }

        status = int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            ? (GrpcStatusCode)code
            : GrpcStatusCode.Unknown;
        if (headers.TryGetValues("grpc-message", out var messages))
        {
            message = Uri.UnescapeDataString(messages.FirstOrDefault() ?? "");
        }

        return true;
    }

    /// <summary>grpc-timeout: at most 8 digits and a unit; milliseconds unless that overflows.</summary>
    internal static string FormatTimeout(TimeSpan timeout)
    {
        var ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
        return ms < 100_000_000 ? $"{Math.Max(ms, 1)}m" : $"{Math.Min((long)Math.Ceiling(timeout.TotalSeconds), 99_999_999)}S";
    }

    /// <summary>The gRPC HTTP-to-status mapping for responses that are not gRPC at all.</summary>
    private static GrpcStatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
        HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
        HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
            or HttpStatusCode.GatewayTimeout => GrpcStatusCode.Unavailable,
        _ => GrpcStatusCode.Unknown,
    };

    public void Dispose() => _http.Dispose();
}
