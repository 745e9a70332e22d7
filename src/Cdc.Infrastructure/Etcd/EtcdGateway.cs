using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cdc.Infrastructure.Etcd;

/// <summary>
/// etcd's JSON gateway (<c>POST /v3/...</c>): endpoint fail-over, the auth token and error mapping. Bodies and answers
/// are JSON with base64 keys/values and int64 values as strings.
/// </summary>
internal sealed class EtcdGateway : IDisposable
{
    private readonly EtcdOptions _options;
    private readonly HttpClient _http;
    private readonly Uri[] _endpoints;
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private int _current;
    private string? _token;

    public EtcdGateway(EtcdOptions options, HttpMessageHandler handler)
    {
        if (options.Address.Count == 0) throw new ArgumentException("etcd address list is empty");
        _options = options;
        _endpoints = options.Address.Select(a => EtcdTransport.BaseUri(a, options.EnableTls)).ToArray();
        // The watch is a long-lived response: time limits are per call (RequestTimeout), not per client.
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>A unary call: POSTs <paramref name="body"/> to <c>/v3/{path}</c> and returns the parsed answer.</summary>
    public async Task<JsonObject> CallAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await SendAsync(path, body, HttpCompletionOption.ResponseContentRead, timeout.Token);
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                if (!response.IsSuccessStatusCode) throw ErrorFrom(response.StatusCode, text);
                return JsonNode.Parse(text) as JsonObject ?? throw new EtcdException($"etcd answered {path} with no JSON object");
            }
            catch (EtcdException e) when (e.IsUnauthenticated && _options.EnableAuth && attempt == 0)
            {
                await RefreshTokenAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new EtcdException($"etcd did not answer {path} within {_options.RequestTimeout}");
            }
        }
    }

    /// <summary>
    /// A streaming call (the watch): the answer with its headers read and a successful status; the caller reads
    /// the body line by line and disposes it.
    /// </summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await SendAsync(path, body, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.IsSuccessStatusCode) return response;
            using (response)
            {
                var error = ErrorFrom(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
                if (!(error.IsUnauthenticated && _options.EnableAuth && attempt == 0)) throw error;
            }
            await RefreshTokenAsync(cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(
        string path, JsonObject body, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var token = _options.EnableAuth ? await TokenAsync(cancellationToken) : null;
        var json = body.ToJsonString();
        HttpRequestException? last = null;
        for (var tried = 0; tried < _endpoints.Length; tried++)
        {
            var index = Volatile.Read(ref _current);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_endpoints[index], "v3/" + path))
            {
                Content = new StringContent(json, Encoding.UTF8, "application/json"),
            };
            if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", token);
            try
            {
                return await _http.SendAsync(request, completion, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                last = e;
                Interlocked.CompareExchange(ref _current, (index + 1) % _endpoints.Length, index);
            }
        }
        throw new EtcdException(
            $"no etcd endpoint answered ({string.Join(", ", _options.Address)}): {last?.Message}", 14, last);
    }

    private async Task<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _token) is { } token) return token;
        await RefreshTokenAsync(cancellationToken);
        return _token!;
    }

    /// <summary>True when requests carry an auth token (enableAuth).</summary>
    public bool UsesAuth => _options.EnableAuth;

    /// <summary>Drops the current auth token and authenticates again (after etcd called it invalid).</summary>
    public Task RenewTokenAsync(CancellationToken cancellationToken) => RefreshTokenAsync(cancellationToken);

    private async Task RefreshTokenAsync(CancellationToken cancellationToken)
    {
        var stale = Volatile.Read(ref _token);
        await _authLock.WaitAsync(cancellationToken);
        try
        {
            if (_token is not null && _token != stale) return; // another caller refreshed it meanwhile
            _token = null;
            var body = new JsonObject { ["name"] = _options.Username ?? "", ["password"] = _options.Password ?? "" };
            var json = body.ToJsonString();
            HttpRequestException? last = null;
            foreach (var endpoint in _endpoints)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, "v3/auth/authenticate"))
                {
                    Content = new StringContent(json, Encoding.UTF8, "application/json"),
                };
                HttpResponseMessage response;
                try
                {
                    response = await _http.SendAsync(request, cancellationToken);
                }
                catch (HttpRequestException e)
                {
                    last = e;
                    continue;
                }
                using (response)
                {
                    var text = await response.Content.ReadAsStringAsync(cancellationToken);
                    if (!response.IsSuccessStatusCode) throw ErrorFrom(response.StatusCode, text);
                    _token = JsonNode.Parse(text)?["token"]?.GetValue<string>()
                             ?? throw new EtcdException("etcd authenticate answered without a token");
                    return;
                }
            }
            throw new EtcdException($"no etcd endpoint answered the authentication: {last?.Message}", 14, last);
        }
        finally
        {
            _authLock.Release();
        }
    }

    /// <summary>The gateway's error body: <c>{"error":"…","code":N,"message":"…"}</c>.</summary>
    internal static EtcdException ErrorFrom(HttpStatusCode status, string text)
    {
        try
        {
            if (JsonNode.Parse(text) is JsonObject error)
            {
                var message = error["message"]?.GetValue<string>() ?? error["error"]?.GetValue<string>() ?? text;
                var code = error["code"] is JsonValue c && c.TryGetValue<int>(out var n) ? n : 0;
                return new EtcdException($"etcd: {message} (HTTP {(int)status})", code);
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return new EtcdException($"etcd answered HTTP {(int)status}: {text.Trim()}");
    }

    public void Dispose()
    {
        _http.Dispose();
        _authLock.Dispose();
    }
}
