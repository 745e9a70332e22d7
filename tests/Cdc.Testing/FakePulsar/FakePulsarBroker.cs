using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Cdc.Infrastructure.Source.Pulsar.Protos;

namespace Cdc.Testing.FakePulsar;

/// <summary>
/// A Pulsar broker for tests, on 127.0.0.1, speaking the binary protocol (PulsarApi.proto frames with CRC-32C):
/// CONNECT (token authentication, proxying with proxy_to_broker_url), LOOKUP, PRODUCER/SEND, SUBSCRIBE (durable or
/// not, with start_message_id or an initial position)/FLOW/MESSAGE/ACK, GET_LAST_MESSAGE_ID, PING/PONG, CLOSE_*.
/// Topics live in memory (<see cref="FakePulsarCluster"/>, shared by the brokers of a cluster). Faults can be
/// injected: consumers closed, connections dropped, a corrupt next frame, silence on PING.
/// </summary>
public sealed class FakePulsarBroker : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<FakePulsarConnection, byte> _connections = new();
    private readonly ConcurrentQueue<CommandConnect> _connects = new();
    private readonly ConcurrentQueue<CommandSubscribe> _subscribes = new();
    private readonly ConcurrentQueue<CommandAuthResponse> _authResponses = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(FakePulsarFault Fault, long? EntryId)>> _faults = new(StringComparer.Ordinal);
    private readonly Task _accepting;
    private long _pingsReceived;
    private long _pongsReceived;
    private long _messagesDispatched;
    private volatile bool _answerPings = true;

    private FakePulsarBroker(FakePulsarOptions options, FakePulsarCluster cluster)
    {
        Options = options;
        Cluster = cluster;
        _listener = new TcpListener(IPAddress.Loopback, options.Port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        cluster.Join(this);
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public static FakePulsarBroker Start(FakePulsarOptions? options = null, FakePulsarCluster? cluster = null) =>
        new(options ?? new FakePulsarOptions(), cluster ?? new FakePulsarCluster());

    public FakePulsarOptions Options { get; }

    public FakePulsarCluster Cluster { get; }

    public int Port { get; }

    public bool UsesTls => Options.ServerCertificate is not null;

    /// <summary>pulsar://127.0.0.1:port, or pulsar+ssl://localhost:port with TLS (the name the test certificates carry).</summary>
    public string ServiceUrl => UsesTls ? $"pulsar+ssl://localhost:{Port}" : $"pulsar://127.0.0.1:{Port}";

    /// <summary>Every CONNECT received, in order (authentication data, proxy_to_broker_url, protocol version).</summary>
    public IReadOnlyList<CommandConnect> Connects => _connects.ToList();

    /// <summary>Every SUBSCRIBE received, in order.</summary>
    public IReadOnlyList<CommandSubscribe> Subscribes => _subscribes.ToList();

    /// <summary>Every AUTH_RESPONSE received (answers to <see cref="ChallengeAuthenticationAsync"/>).</summary>
    public IReadOnlyList<CommandAuthResponse> AuthResponses => _authResponses.ToList();

    public long PingsReceived => Interlocked.Read(ref _pingsReceived);

    public long PongsReceived => Interlocked.Read(ref _pongsReceived);

    /// <summary>MESSAGE frames sent to consumers (entries; a batch is one).</summary>
    public long MessagesDispatched => Interlocked.Read(ref _messagesDispatched);

    public int OpenConnections => _connections.Count;

    public FakePulsarTopic Topic(string name) => Cluster.Topic(name);

    /// <summary>Whether PING is answered with PONG (off: the broker stays silent, as a hung broker).</summary>
    public void AnswerPings(bool answer) => _answerPings = answer;

    /// <summary>
    /// The next MESSAGE frame of <paramref name="topic"/> goes wrong in this way (once); with <paramref name="entryId"/>,
    /// the next one carrying that entry (see <see cref="FakePulsarTopic.NextEntryId"/>), frames before it going out intact.
    /// </summary>
    public void InjectFault(string topic, FakePulsarFault fault, long? entryId = null) =>
        _faults.GetOrAdd(topic, _ => new ConcurrentQueue<(FakePulsarFault, long?)>()).Enqueue((fault, entryId));

    /// <summary>Sends CLOSE_CONSUMER to every consumer of <paramref name="topic"/> (a topic unloaded or moved).</summary>
    public async Task CloseConsumersAsync(string topic)
    {
        foreach (var connection in _connections.Keys) await connection.CloseConsumersAsync(topic);
    }

    /// <summary>Drops every client connection (a broker restart, a network cut).</summary>
    public void DropConnections()
    {
        foreach (var connection in _connections.Keys) connection.Abort();
    }

    /// <summary>
    /// Drops every client connection a consumer is attached on (a network cut between the readers and the broker);
    /// producers keep theirs, so what they write is neither lost nor written twice.
    /// </summary>
    public void DropConsumerConnections()
    {
        foreach (var connection in _connections.Keys.Where(c => c.HasConsumers)) connection.Abort();
    }

    /// <summary>Sends PING to every client connection; their PONGs count in <see cref="PongsReceived"/>.</summary>
    public async Task PingClientsAsync()
    {
        foreach (var connection in _connections.Keys) await connection.SendPingAsync();
    }

    /// <summary>Sends AUTH_CHALLENGE to every client connection (a broker refreshing authentication).</summary>
    public async Task ChallengeAuthenticationAsync()
    {
        foreach (var connection in _connections.Keys) await connection.SendAuthChallengeAsync();
    }

    internal bool AnswersPings => _answerPings;

    internal void Record(CommandConnect connect) => _connects.Enqueue(connect);

    internal void Record(CommandSubscribe subscribe) => _subscribes.Enqueue(subscribe);

    internal void Record(CommandAuthResponse response) => _authResponses.Enqueue(response);

    internal void CountPing() => Interlocked.Increment(ref _pingsReceived);

    internal void CountPong() => Interlocked.Increment(ref _pongsReceived);

    internal void CountDispatched() => Interlocked.Increment(ref _messagesDispatched);

    internal FakePulsarFault? TakeFault(string topic, FakePulsarEntry entry) =>
        _faults.TryGetValue(topic, out var queue) && queue.TryPeek(out var next) && (next.EntryId is null || next.EntryId == entry.EntryId)
            && queue.TryDequeue(out var fault)
            ? fault.Fault
            : null;

    internal void Forget(FakePulsarConnection connection) => _connections.TryRemove(connection, out _);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        client.NoDelay = true;
        Stream stream = client.GetStream();
        try
        {
            if (Options.ServerCertificate is { } certificate)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, _stop.Token);
            }
        }
        catch (Exception)
        {
            // A client that gave up on the TLS handshake (e.g. it does not trust the certificate).
            client.Dispose();
            return;
        }

        var connection = new FakePulsarConnection(this, client, stream);
        _connections[connection] = 0;
        await connection.RunAsync(_stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Cluster.Leave(this);
        DropConnections();
        await _accepting;
        _stop.Dispose();
    }
}
