using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Status = Cdc.Infrastructure.Milvus.Protos.Common.Status;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// A fake target Milvus for tests: the generated MilvusService server base (<see cref="FakeMilvusService"/>) on
/// Grpc.AspNetCore, Kestrel on 127.0.0.1 (random port), HTTP/2 only, optional TLS / mutual TLS. It serves the
/// MilvusService RPCs the CDC writer uses against in-memory state, records every call, and can be told to fail or slow
/// down, or taken off the network and put back on the same port with its state kept (<see cref="StopListeningAsync"/>,
/// <see cref="StartListeningAsync"/>), as a real Milvus that was unreachable.
/// </summary>
public sealed class FakeMilvusServer : IAsyncDisposable
{
    private readonly FakeMilvusOptions _options;
    private readonly FakeMilvusTarget _target;
    private readonly object _gate = new();
    private readonly List<FakeMilvusCall> _calls = [];
    private readonly List<FakeMilvusFault> _faults = [];
    private readonly Dictionary<string, int> _callsUnderWay = new(StringComparer.Ordinal); // per method, under _gate
    private readonly Dictionary<string, int> _mostCallsAtOnce = new(StringComparer.Ordinal);

    private WebApplication? _app;

    private FakeMilvusServer(FakeMilvusOptions options, FakeMilvusTarget target)
    {
        _options = options;
        _target = target;
        Latency = options.Latency;
    }

    /// <summary>http://127.0.0.1:port/ or https://localhost:port/ when TLS is on.</summary>
    public Uri Uri { get; private set; } = null!;

    public TimeSpan Latency { get; set; }

    /// <summary>Milvus' common.ttMsgEnabled; can be flipped at runtime like the real (refreshable) setting.</summary>
    public bool TtMsgEnabled
    {
        get => _target.TtMsgEnabled;
        set => _target.TtMsgEnabled = value;
    }

    public IReadOnlyList<FakeMilvusCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public IReadOnlyList<FakeMilvusCall> CallsTo(string method) => [.. Calls.Where(c => c.Method == method)];

    public IReadOnlyList<FakeCollection> Collections => _target.Collections;

    public IReadOnlyList<string> Databases => _target.Databases;

    public FakeCollection Collection(string database, string name) =>
        Collections.Single(c => c.DbName == database && c.Name == name);

    public IReadOnlyList<FakeRow> Rows(string database, string collection) => _target.Rows(database, collection);

    public IReadOnlyDictionary<string, string> DatabaseProperties(string database) => _target.DatabaseProperties(database);

    /// <summary>
    /// Every message that reached a target pchannel out of its time order: a time tick below the channel's last one, or
    /// an Insert, Delete or drop not above it (what a Milvus consumer of the channel would take out of order).
    /// </summary>
    public IReadOnlyList<FakeTimeViolation> TimeViolations => _target.TimeViolations;

    /// <summary>The highest time tick each target pchannel received.</summary>
    public IReadOnlyDictionary<string, ulong> LastTicks => _target.LastTicks;

    /// <summary>The next <paramref name="count"/> calls (of <paramref name="method"/>, or any) fail with a gRPC status.</summary>
    public void FailNext(int count, StatusCode status, string? method = null, string message = "injected failure")
    {
        lock (_gate)
        {
            _faults.Add(new FakeMilvusFault(count, method, status, 0, message, false));
        }
    }

    /// <summary>The next <paramref name="count"/> calls answer with a Milvus error status.</summary>
    public void FailNextWithStatus(int count, int milvusCode, string reason, bool retriable = false, string? method = null)
    {
        lock (_gate)
        {
            _faults.Add(new FakeMilvusFault(count, method, null, milvusCode, reason, retriable));
        }
    }

    public static async Task<FakeMilvusServer> StartAsync(FakeMilvusOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FakeMilvusOptions();
        var server = new FakeMilvusServer(options, new FakeMilvusTarget(options));
        await server.ListenAsync(options.Port, cancellationToken);
        return server;
    }

    /// <summary>Whether the server accepts connections (false between <see cref="StopListeningAsync"/> and <see cref="StartListeningAsync"/>).</summary>
    public bool IsListening => _app is not null;

    /// <summary>
    /// Takes the server off the network, as a Milvus that became unreachable: open connections are closed and new ones
    /// refused, while its collections, rows and recorded calls stay as they were.
    /// </summary>
    public async Task StopListeningAsync()
    {
        var app = _app ?? throw new InvalidOperationException("the fake Milvus is not listening");
        _app = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>Puts the server back on its port (same <see cref="Uri"/>) with the state it had when it stopped.</summary>
    public async Task StartListeningAsync(CancellationToken cancellationToken = default)
    {
        if (IsListening) throw new InvalidOperationException("the fake Milvus is listening already");
        // The port was free a moment ago; another program may bind it in between, so try a few times.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ListenAsync(Uri.Port, cancellationToken);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    private async Task ListenAsync(int port, CancellationToken cancellationToken)
    {
        var options = _options;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(this);
        builder.Services.AddSingleton<FakeMilvusService>();
        builder.Services.AddGrpc(grpc =>
        {
            // Milvus' proxy accepts far larger requests than Grpc.AspNetCore's 4 MB default: a 1,000-row insert of
            // 768-dim vectors is ~3 MB, and a pack may carry several.
            grpc.MaxReceiveMessageSize = null;
            grpc.MaxSendMessageSize = null;
        });
        var serverCertificate = options.ServerCertificate is { } cert ? Reloaded(cert) : null;
        // Kestrel reads a connection into 4 KB blocks and by default first waits for data (a zero-byte receive) before it
        // takes each block. Without that wait the benchmarks' fake, which shares the cores with the CDC, used about a
        // tenth less CPU per MB of 3 MB insert packs (alternating runs of the gRPC write measure).
        builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            // grpc-go servers (Milvus) grow their HTTP/2 flow-control windows by BDP estimation up to 16 MiB; Kestrel's
            // fixed defaults (1 MiB per connection, 768 KiB per stream) would stall a 3 MB insert pack several times.
            kestrel.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 16 * 1024 * 1024;
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (serverCertificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = serverCertificate,
                        SslProtocols = SslProtocols.Tls13 | SslProtocols.Tls12,
                        ClientCertificateMode = options.ClientCertificateAuthority is null
                            ? ClientCertificateMode.NoCertificate
                            : ClientCertificateMode.RequireCertificate,
                        ClientCertificateValidation = (client, _, _) =>
                            options.ClientCertificateAuthority is { } ca && IsIssuedBy(client, ca),
                    });
                }
            });
        });

        var app = builder.Build();
        // Other methods and services answer UNIMPLEMENTED, as grpc-go does.
        app.MapGrpcService<FakeMilvusService>();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var bound = new Uri(address).Port;
        Uri = serverCertificate is null ? new Uri($"http://127.0.0.1:{bound}/") : new Uri($"https://localhost:{bound}/");
        _app = app;
    }

    /// <summary>
    /// One call of <see cref="FakeMilvusService"/>: recorded, faults and latency applied, the token checked, then the
    /// in-memory target's answer, or a Milvus error status in <paramref name="error"/>'s response. gRPC failures are
    /// thrown as <see cref="RpcException"/>, which Grpc.AspNetCore answers trailers-only.
    /// </summary>
    internal async Task<TResponse> HandleAsync<TResponse>(IMessage request, ServerCallContext context, Func<Status, TResponse> error)
        where TResponse : IMessage
    {
        var method = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        lock (_gate)
        {
            var now = _callsUnderWay.GetValueOrDefault(method) + 1;
            _callsUnderWay[method] = now;
            _mostCallsAtOnce[method] = Math.Max(now, _mostCallsAtOnce.GetValueOrDefault(method));
        }

        try
        {
            return await HandleOneAsync(method, request, context, error);
        }
        finally
        {
            lock (_gate) _callsUnderWay[method]--;
        }
    }

    /// <summary>The most calls of <paramref name="method"/> this server had under way at one time.</summary>
    public int MostCallsAtOnce(string method)
    {
        lock (_gate) return _mostCallsAtOnce.GetValueOrDefault(method);
    }

    private async Task<TResponse> HandleOneAsync<TResponse>(string method, IMessage request, ServerCallContext context, Func<Status, TResponse> error)
        where TResponse : IMessage
    {
        var metadata = context.GetHttpContext().Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var call = new FakeMilvusCall(method, metadata, request);
        FakeMilvusFault? fault;
        lock (_gate)
        {
            if (_options.RecordCalls)
            {
                _calls.Add(call);
            }

            fault = _faults.FirstOrDefault(f => f.Matches(method));
            if (fault is not null)
            {
                fault.Remaining--;
            }
        }

        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency, _options.TimeProvider, context.CancellationToken);
        }

        if (_options.RequiredToken is { } token
            && metadata.GetValueOrDefault("authorization") != Convert.ToBase64String(Encoding.UTF8.GetBytes(token)))
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.Unauthenticated, "auth check failure, please check username and password are correct"));
        }

        if (fault?.GrpcStatus is { } status)
        {
            throw new RpcException(new Grpc.Core.Status(status, fault.Reason));
        }

        TResponse response;
        var handled = false;
        if (fault is not null)
        {
            response = error(FakeMilvusTarget.Error(fault.MilvusCode, fault.Reason, fault.Retriable));
        }
        else
        {
            try
            {
                response = (TResponse)_target.Handle(method, request, metadata.GetValueOrDefault("dbname"));
                handled = true;
            }
            catch (FakeMilvusError failure)
            {
                response = error(FakeMilvusTarget.Error(failure.Code, failure.Reason, failure.Retriable));
            }
        }

        _options.OnHandled?.Invoke(call, handled);
        return response;
    }

    private static bool IsIssuedBy(X509Certificate2 client, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(client);
    }

    /// <summary>Certificates made in memory need a persisted key for SslStream on some platforms: round-trip PKCS#12.</summary>
    private static X509Certificate2 Reloaded(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);

    public async ValueTask DisposeAsync()
    {
        if (IsListening) await StopListeningAsync();
    }
}
