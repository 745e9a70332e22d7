using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Cdc.Infrastructure.Milvus.Grpc;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// A fake target Milvus for tests: Kestrel on 127.0.0.1 (random port), HTTP/2 only, real gRPC framing
/// (5-byte prefix, application/grpc, grpc-status trailers or trailers-only errors), optional TLS / mutual TLS.
/// It serves the MilvusService RPCs the CDC writer uses against in-memory state, records every call, and can be
/// told to fail or slow down, or taken off the network and put back on the same port with its state kept
/// (<see cref="StopListeningAsync"/>, <see cref="StartListeningAsync"/>), as a real Milvus that was unreachable.
/// With <see cref="FakeMilvusOptions.LeanTransport"/> the same handling is served by <see cref="LeanHttp2Server"/>
/// instead of Kestrel (h2c only), for benchmarks.
/// </summary>
public sealed class FakeMilvusServer : IAsyncDisposable
{
    private static readonly IReadOnlyDictionary<string, (MessageParser Parser, Func<Status, IMessage> Error)> Methods =
        new Dictionary<string, (MessageParser, Func<Status, IMessage>)>(StringComparer.Ordinal)
        {
            ["ReplicateMessage"] = (Rpc.ReplicateMessageRequest.Parser, s => new Rpc.ReplicateMessageResponse { Status = s }),
            ["CreateCollection"] = (Rpc.CreateCollectionRequest.Parser, s => s),
            ["DescribeCollection"] = (Rpc.DescribeCollectionRequest.Parser, s => new Rpc.DescribeCollectionResponse { Status = s }),
            ["HasCollection"] = (Rpc.HasCollectionRequest.Parser, s => new Rpc.BoolResponse { Status = s }),
            ["DropCollection"] = (Rpc.DropCollectionRequest.Parser, s => s),
            ["CreatePartition"] = (Rpc.CreatePartitionRequest.Parser, s => s),
            ["ShowPartitions"] = (Rpc.ShowPartitionsRequest.Parser, s => new Rpc.ShowPartitionsResponse { Status = s }),
            ["DropPartition"] = (Rpc.DropPartitionRequest.Parser, s => s),
            ["CreateIndex"] = (Rpc.CreateIndexRequest.Parser, s => s),
            ["DropIndex"] = (Rpc.DropIndexRequest.Parser, s => s),
            ["AlterIndex"] = (Rpc.AlterIndexRequest.Parser, s => s),
            ["LoadCollection"] = (Rpc.LoadCollectionRequest.Parser, s => s),
            ["ReleaseCollection"] = (Rpc.ReleaseCollectionRequest.Parser, s => s),
            ["LoadPartitions"] = (Rpc.LoadPartitionsRequest.Parser, s => s),
            ["ReleasePartitions"] = (Rpc.ReleasePartitionsRequest.Parser, s => s),
            ["Flush"] = (Rpc.FlushRequest.Parser, s => new Rpc.FlushResponse { Status = s }),
            ["CreateDatabase"] = (Rpc.CreateDatabaseRequest.Parser, s => s),
            ["ListDatabases"] = (Rpc.ListDatabasesRequest.Parser, s => new Rpc.ListDatabasesResponse { Status = s }),
            ["DropDatabase"] = (Rpc.DropDatabaseRequest.Parser, s => s),
            ["AlterDatabase"] = (Rpc.AlterDatabaseRequest.Parser, s => s),
        };

    private readonly FakeMilvusOptions _options;
    private readonly FakeMilvusTarget _target;
    private readonly object _gate = new();
    private readonly List<FakeMilvusCall> _calls = [];
    private readonly List<FakeMilvusFault> _faults = [];

    private WebApplication? _app;
    private LeanHttp2Server? _lean;

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

    /// <summary>The next <paramref name="count"/> calls (of <paramref name="method"/>, or any) fail with a gRPC status.</summary>
    public void FailNext(int count, GrpcStatusCode status, string? method = null, string message = "injected failure")
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
        if (options.LeanTransport && options.ServerCertificate is not null)
        {
            throw new ArgumentException("the lean transport is plain h2c: it takes no server certificate", nameof(options));
        }

        var server = new FakeMilvusServer(options, new FakeMilvusTarget(options));
        await server.ListenAsync(port: 0, cancellationToken);
        return server;
    }

    /// <summary>Whether the server accepts connections (false between <see cref="StopListeningAsync"/> and <see cref="StartListeningAsync"/>).</summary>
    public bool IsListening => _app is not null || _lean is not null;

    /// <summary>
    /// Takes the server off the network, as a Milvus that became unreachable: open connections are closed and new ones
    /// refused, while its collections, rows and recorded calls stay as they were.
    /// </summary>
    public async Task StopListeningAsync()
    {
        if (_lean is { } lean)
        {
            _lean = null;
            await lean.DisposeAsync();
            return;
        }

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
        if (options.LeanTransport)
        {
            var lean = LeanHttp2Server.Start(IPAddress.Loopback, port, ServeLeanAsync);
            Uri = new Uri($"http://127.0.0.1:{lean.Port}/");
            _lean = lean;
            return;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddRoutingCore();
        var serverCertificate = options.ServerCertificate is { } cert ? Reloaded(cert) : null;
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
        app.MapPost("/milvus.proto.milvus.MilvusService/{method}", (HttpContext context, string method) => ServeAsync(context, method));
        app.MapFallback(context =>
        {
            // Any other gRPC path: UNIMPLEMENTED, as grpc-go answers.
            WriteTrailersOnly(context, GrpcStatusCode.Unimplemented, $"unknown method {context.Request.Path}");
            return Task.CompletedTask;
        });
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

    /// <summary>The Kestrel path: reads the whole request body, then answers as <see cref="HandleAsync"/> says.</summary>
    private async Task ServeAsync(HttpContext context, string method)
    {
        var cancellationToken = context.RequestAborted;
        var reader = context.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(cancellationToken);
            if (read.IsCompleted || read.IsCanceled) break;
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        var body = read.Buffer.ToArray();
        reader.AdvanceTo(read.Buffer.End);
        var metadata = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var answer = await HandleAsync(method, metadata, body, cancellationToken);
        if (answer.FramedResponse is not { } response)
        {
            WriteTrailersOnly(context, answer.Status, answer.Message);
            return;
        }

        context.Response.ContentType = GrpcFraming.ContentType;
        await context.Response.Body.WriteAsync(response, cancellationToken);
        context.Response.AppendTrailer("grpc-status", "0");
    }

    /// <summary>The lean transport's entry: MilvusService paths go to <see cref="HandleAsync"/>, others are UNIMPLEMENTED.</summary>
    private Task<GrpcAnswer> ServeLeanAsync(string path, IReadOnlyDictionary<string, string> headers, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        const string prefix = "/milvus.proto.milvus.MilvusService/";
        return path.StartsWith(prefix, StringComparison.Ordinal) && path.IndexOf('/', prefix.Length) < 0
            ? HandleAsync(path[prefix.Length..], headers, body, cancellationToken)
            : Task.FromResult(GrpcAnswer.TrailersOnly(GrpcStatusCode.Unimplemented, $"unknown method {path}"));
    }

    /// <summary>
    /// One call, whatever the transport: the method looked up, the gRPC-framed request body parsed, recorded, faults
    /// and latency applied, the token checked, then the in-memory target's answer (or a Milvus error status).
    /// </summary>
    private async Task<GrpcAnswer> HandleAsync(string method, IReadOnlyDictionary<string, string> metadata, ReadOnlyMemory<byte> grpcBody, CancellationToken cancellationToken)
    {
        if (!Methods.TryGetValue(method, out var descriptor))
        {
            return GrpcAnswer.TrailersOnly(GrpcStatusCode.Unimplemented, $"unknown method {method} for service milvus.proto.milvus.MilvusService");
        }

        IMessage request;
        try
        {
            // Not kept after the call: a ReplicateMessage's messages (3 MB an insert) need not be copied out of the body.
            request = method == "ReplicateMessage" && !_options.RecordCalls
                ? ParseReplicateReferencingMsgs(Unframe(grpcBody))
                : descriptor.Parser.ParseFrom(Unframe(grpcBody).Span);
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidProtocolBufferException)
        {
            return GrpcAnswer.TrailersOnly(GrpcStatusCode.Internal, $"grpc: error unmarshalling request: {ex.Message}");
        }

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
            await Task.Delay(Latency, _options.TimeProvider, cancellationToken);
        }

        if (_options.RequiredToken is { } token
            && metadata.GetValueOrDefault("authorization") != Convert.ToBase64String(Encoding.UTF8.GetBytes(token)))
        {
            return GrpcAnswer.TrailersOnly(GrpcStatusCode.Unauthenticated, "auth check failure, please check username and password are correct");
        }

        if (fault?.GrpcStatus is { } status)
        {
            return GrpcAnswer.TrailersOnly(status, fault.Reason);
        }

        IMessage response;
        var handled = false;
        if (fault is not null)
        {
            response = descriptor.Error(FakeMilvusTarget.Error(fault.MilvusCode, fault.Reason, fault.Retriable));
        }
        else
        {
            try
            {
                response = _target.Handle(method, request, metadata.GetValueOrDefault("dbname"));
                handled = true;
            }
            catch (FakeMilvusError error)
            {
                response = descriptor.Error(FakeMilvusTarget.Error(error.Code, error.Reason, error.Retriable));
            }
        }

        _options.OnHandled?.Invoke(call, handled);
        return GrpcAnswer.Ok(GrpcFraming.Frame(response));
    }

    /// <summary>
    /// A ReplicateMessageRequest whose Msgs (field 5) reference <paramref name="message"/> instead of copies of it;
    /// every other field is parsed as usual. Valid only while <paramref name="message"/> is.
    /// </summary>
    private static Rpc.ReplicateMessageRequest ParseReplicateReferencingMsgs(ReadOnlyMemory<byte> message)
    {
        var span = message.Span;
        var others = new ArrayBufferWriter<byte>(256);
        var msgs = new List<ByteString>();
        var position = 0;
        while (position < span.Length)
        {
            var start = position;
            var tag = ReadVarint(span, ref position);
            var length = (tag & 7) switch
            {
                0 => SkipVarint(span, ref position),
                1 => 8,
                2 => checked((int)ReadVarint(span, ref position)),
                5 => 4,
                _ => throw new InvalidDataException($"wire type {tag & 7} of field {tag >> 3} is not supported"),
            };
            if (length > span.Length - position)
            {
                throw new InvalidDataException("the message ends inside a field");
            }

            if (tag == ((Rpc.ReplicateMessageRequest.MsgsFieldNumber << 3) | 2))
            {
                msgs.Add(UnsafeByteOperations.UnsafeWrap(message.Slice(position, length)));
            }
            else
            {
                others.Write(span[start..(position + length)]);
            }

            position += length;
        }

        var request = Rpc.ReplicateMessageRequest.Parser.ParseFrom(others.WrittenSpan);
        request.Msgs.AddRange(msgs);
        return request;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                throw new InvalidDataException("the message ends inside a varint");
            }

            var b = span[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("a varint is longer than 10 bytes");
    }

    /// <summary>Reads past a varint field's value; 0 bytes remain to skip.</summary>
    private static int SkipVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ReadVarint(span, ref position);
        return 0;
    }

    /// <summary>The message inside a gRPC-framed body (empty body: empty message), checked as GrpcFraming reads one.</summary>
    private static ReadOnlyMemory<byte> Unframe(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty) return body;
        if (body.Length < GrpcFraming.PrefixLength) throw new InvalidDataException("gRPC frame prefix is truncated");
        var span = body.Span;
        if (span[0] != 0) throw new InvalidDataException("gRPC frame is compressed, but no compression was negotiated");
        var length = BinaryPrimitives.ReadUInt32BigEndian(span[1..]);
        if (length > GrpcFraming.MaxMessageLength)
        {
            throw new InvalidDataException($"gRPC message of {length} bytes exceeds the limit of {GrpcFraming.MaxMessageLength}");
        }

        if (body.Length - GrpcFraming.PrefixLength < length) throw new InvalidDataException("gRPC message is truncated");
        return body.Slice(GrpcFraming.PrefixLength, (int)length);
    }

    private static void WriteTrailersOnly(HttpContext context, GrpcStatusCode status, string message)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = GrpcFraming.ContentType;
        context.Response.Headers["grpc-status"] = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
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
