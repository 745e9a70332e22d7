using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Cdc.Infrastructure.Source.Etcd;

/// <summary>
/// The configured endpoints in order of preference. Calls go to the current endpoint; when it cannot be reached
/// (gRPC Unavailable) the call goes on to the next one, which becomes the current one. A call etcd refuses for an
/// invalid or expired auth token is made once more with a fresh token.
/// </summary>
internal sealed class EtcdEndpoints : IDisposable
{
    private readonly EtcdEndpoint[] _endpoints;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _current;

    public EtcdEndpoints(EtcdOptions options, TimeProvider time, Interceptor[] interceptors, ILogger logger)
    {
        if (options.Address.Count == 0) throw new ArgumentException("etcd address list is empty");
        if (options.EnableAuth && (string.IsNullOrWhiteSpace(options.Username) || string.IsNullOrWhiteSpace(options.Password)))
            throw new ArgumentException("etcd enableAuth is true, so username and password are required");
        _requestTimeout = options.RequestTimeout;
        _time = time;
        _logger = logger;
        var tls = EtcdTls.From(options);
        var endpoints = new List<EtcdEndpoint>();
        try
        {
            for (var i = 0; i < options.Address.Count; i++) endpoints.Add(new EtcdEndpoint(i, options.Address[i], options, tls, interceptors));
        }
        catch
        {
            foreach (var endpoint in endpoints) endpoint.Dispose();
            throw;
        }
        _endpoints = [.. endpoints];
    }

    public int Count => _endpoints.Length;

    public EtcdEndpoint Current => _endpoints[Volatile.Read(ref _current)];

    /// <summary>
    /// <paramref name="failed"/> could not be reached: the endpoint after it becomes the current one (unless another
    /// caller moved on already) and is returned.
    /// </summary>
    public EtcdEndpoint MoveOnFrom(EtcdEndpoint failed, string reason)
    {
        var index = Array.IndexOf(_endpoints, failed);
        var next = _endpoints[(index + 1) % _endpoints.Length];
        if (next != failed && Interlocked.CompareExchange(ref _current, (index + 1) % _endpoints.Length, index) == index)
            _logger.LogWarning("etcd endpoint {Endpoint} failed ({Reason}); going on with {Next}", failed, reason, next);
        return next;
    }

    /// <summary>
    /// One request (<paramref name="operation"/> names it in errors), within the request time limit over every
    /// endpoint it is tried on. etcd's refusals and unreachable endpoints become <see cref="EtcdException"/>.
    /// </summary>
    public async Task<TResponse> CallAsync<TResponse>(
        string operation, Func<dotnet_etcd.EtcdClient, CancellationToken, Task<TResponse>> call, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_requestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var unreachable = new List<string>();
        var endpoint = Current;
        var renewedToken = false;
        while (true)
        {
            try
            {
                return await call(endpoint.Client, linked.Token);
            }
            catch (Exception e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new EtcdException($"etcd {endpoint} did not answer {operation} within {_requestTimeout}", StatusCode.DeadlineExceeded, e);
            }
            catch (RpcException e)
            {
                var status = StatusOf(e.Status);
                if (status.StatusCode == StatusCode.Unauthenticated && endpoint.UsesAuth && !renewedToken)
                {
                    endpoint.RenewToken();
                    renewedToken = true;
                    continue;
                }
                if (status.StatusCode != StatusCode.Unavailable)
                    throw new EtcdException($"etcd {endpoint} refused {operation}: {status.Detail}", status.StatusCode, e);
                var reason = Describe(status);
                unreachable.Add($"{endpoint}: {reason}");
                if (unreachable.Count >= _endpoints.Length)
                    throw new EtcdException($"no etcd endpoint answered {operation} ({string.Join("; ", unreachable)})", StatusCode.Unavailable, e);
                endpoint = MoveOnFrom(endpoint, reason);
                renewedToken = false;
            }
        }
    }

    /// <summary>
    /// The status that tells what went wrong. When dotnet-etcd's token provider fails (Authenticate refused or not
    /// answered) gRPC reports "Error starting gRPC call" around the Authenticate call's own status, which is the one
    /// that matters.
    /// </summary>
    public static Status StatusOf(Status status)
    {
        for (var inner = status.DebugException; inner is not null; inner = inner.InnerException)
            if (inner is RpcException nested) return StatusOf(nested.Status);
        return status;
    }

    /// <summary>The status' detail with the underlying error (e.g. "Connection refused"), for messages and logs.</summary>
    public static string Describe(Status status)
    {
        var cause = status.DebugException;
        while (cause?.InnerException is { } inner) cause = inner;
        return cause is null || status.Detail.Contains(cause.Message, StringComparison.Ordinal)
            ? status.Detail
            : $"{status.Detail} ({cause.Message})";
    }

    public void Dispose()
    {
        foreach (var endpoint in _endpoints) endpoint.Dispose();
    }
}
