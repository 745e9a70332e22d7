using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Cdc.Testing;

/// <summary>
/// A TCP proxy on a free loopback port in front of a real server (etcd), for tests that need the network to fail:
/// <see cref="Cut"/> resets every open connection as a broken network does, <see cref="Hold"/> keeps new
/// connections waiting (accepted, nothing forwarded) until <see cref="Release"/>, and <see cref="Refuse"/> closes the
/// port so connecting fails as with a server that is down. It forwards bytes and knows nothing of the protocol.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, (Socket Client, Socket Server)> _open = new();
    private readonly Task _accepting;
    private readonly Lock _gateLock = new();
    private TaskCompletionSource _gate = Open();
    private long _nextId;
    private int _accepted;
    private int _cut;

    private TcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>Proxies to the host and port of <paramref name="target"/> (<c>host:port</c> or a URL).</summary>
    public static TcpProxy Start(string target)
    {
        var uri = new Uri(target.Contains("://", StringComparison.Ordinal) ? target : "tcp://" + target);
        return new TcpProxy(uri.Host, uri.Port);
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Connections accepted so far (held ones included).</summary>
    public int ConnectionsAccepted => Volatile.Read(ref _accepted);

    /// <summary>Connections reset by <see cref="Cut"/> or <see cref="Refuse"/>.</summary>
    public int ConnectionsCut => Volatile.Read(ref _cut);

    /// <summary>Resets every open connection (TCP RST to both sides). Later connections are served as before.</summary>
    public void Cut()
    {
        foreach (var (id, pair) in _open)
        {
            if (!_open.TryRemove(id, out _)) continue;
            Reset(pair.Client);
            Reset(pair.Server);
            Interlocked.Increment(ref _cut);
        }
    }

    /// <summary>New connections are accepted but wait, forwarding nothing, until <see cref="Release"/>.</summary>
    public void Hold()
    {
        lock (_gateLock)
        {
            if (_gate.Task.IsCompleted) _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Connections that wait since <see cref="Hold"/> go through, and new ones are served again.</summary>
    public void Release()
    {
        lock (_gateLock) _gate.TrySetResult();
    }

    /// <summary>Stops listening (connecting is refused from now on) and resets every open connection.</summary>
    public void Refuse()
    {
        _listener.Stop();
        Cut();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            Interlocked.Increment(ref _accepted);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var id = Interlocked.Increment(ref _nextId);
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            Task gate;
            lock (_gateLock) gate = _gate.Task;
            await gate.WaitAsync(_stop.Token);
            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            _open[id] = (client, server);
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            _open.TryRemove(id, out _);
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0) return;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Closes with an RST instead of a FIN, as a connection lost to the network looks to its ends.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
        await _accepting;
        _stop.Dispose();
    }
}
