namespace Cdc.Infrastructure.Tests.SourceMeta;

/// <summary>
/// Lets a test cut the open etcd watch stream (as a dropped connection would) and hold the reconnect until it says
/// so, to make things happen while the watcher is away. Other requests pass through.
/// </summary>
internal sealed class WatchCuttingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private readonly CancellationTokenSource _cut = new();
    private readonly TaskCompletionSource _reconnect = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _watchRequests;

    public int WatchRequests => Volatile.Read(ref _watchRequests);

    /// <summary>Breaks the first watch stream; later watch requests wait for <see cref="AllowReconnect"/>.</summary>
    public void Cut() => _cut.Cancel();

    public void AllowReconnect() => _reconnect.TrySetResult();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.RequestUri!.AbsolutePath.EndsWith("/watch", StringComparison.Ordinal))
            return await base.SendAsync(request, cancellationToken);
        if (Interlocked.Increment(ref _watchRequests) > 1)
        {
            await _reconnect.Task.WaitAsync(cancellationToken);
            return await base.SendAsync(request, cancellationToken);
        }
        var response = await base.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var content = new StreamContent(new CuttableStream(body, _cut.Token));
        foreach (var header in response.Content.Headers) content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        response.Content = content;
        return response;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _cut.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Passes reads through until the cut, then fails them as a reset connection does.</summary>
    private sealed class CuttableStream(Stream inner, CancellationToken cut) : Cdc.Testing.ReadOnlyWrappingStream(inner)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cut);
            try
            {
                return await Inner.ReadAsync(buffer, both.Token);
            }
            catch (OperationCanceledException) when (cut.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new IOException("connection reset (simulated)");
            }
        }
    }
}
