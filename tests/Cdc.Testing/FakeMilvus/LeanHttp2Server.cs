using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// Answers one gRPC unary call: the request's :path, its other headers (lower-case names; :authority as host) and
/// its body (the gRPC-framed request message as received). The body's memory is pooled: it is valid only until the
/// returned task completes, so whatever is kept must be copied (parsing a protobuf message from it does that).
/// </summary>
public delegate Task<GrpcAnswer> LeanGrpcHandler(
    string path, IReadOnlyDictionary<string, string> headers, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

/// <summary>
/// A minimal HTTP/2 server for gRPC unary calls, for benchmarks where Kestrel's HTTP/2 receive path would cost more
/// CPU than what it serves: h2c with prior knowledge only (no TLS, no HTTP/1.1 upgrade), a plain socket per
/// connection read in 256 KiB chunks, 16 MiB flow-control windows (as a grpc-go server reaches by BDP estimation),
/// each finished request handed to a <see cref="LeanGrpcHandler"/> on the thread pool while reading goes on.
/// </summary>
public sealed class LeanHttp2Server : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly LeanGrpcHandler _handler;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<LeanHttp2Connection, Task> _connections = new();
    private readonly Task _acceptLoop;

    private LeanHttp2Server(Socket listener, LeanGrpcHandler handler)
    {
        _listener = listener;
        _handler = handler;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The port listened on (the one given, or the ephemeral one the system chose for 0).</summary>
    public int Port { get; }

    /// <summary>Listens on <paramref name="address"/>:<paramref name="port"/>; a port in use is an <see cref="IOException"/>.</summary>
    public static LeanHttp2Server Start(IPAddress address, int port, LeanGrpcHandler handler)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(512);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new IOException($"could not listen on {address}:{port}: {ex.Message}", ex);
        }

        return new LeanHttp2Server(listener, handler);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                continue;
            }

            socket.NoDelay = true;
            var connection = new LeanHttp2Connection(socket, _handler);
            _connections[connection] = RunConnectionAsync(connection);
        }
    }

    private async Task RunConnectionAsync(LeanHttp2Connection connection)
    {
        await Task.Yield();
        try
        {
            await connection.RunAsync(_stopping.Token);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
        }
    }

    /// <summary>Stops accepting and closes every connection (calls in progress are abandoned).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        foreach (var connection in _connections.Keys)
        {
            connection.Close();
        }

        await Task.WhenAll(_connections.Values);
        _stopping.Dispose();
    }
}
