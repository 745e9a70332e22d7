using System.Security.Cryptography.X509Certificates;

namespace Cdc.Testing.FakeMilvus;

/// <summary>How the fake target behaves. Defaults: plain h2c, ttMsgEnabled=false (a replication target), no auth.</summary>
public sealed record FakeMilvusOptions
{
    /// <summary>Milvus' common.ttMsgEnabled: true makes ReplicateMessage fail with code 1900, as on a normal instance.</summary>
    public bool TtMsgEnabled { get; init; }

    /// <summary>When set, every call must carry authorization = base64(token), else gRPC UNAUTHENTICATED.</summary>
    public string? RequiredToken { get; init; }

    /// <summary>Server certificate (with private key). Null means plain HTTP/2 (h2c).</summary>
    public X509Certificate2? ServerCertificate { get; init; }

    /// <summary>When set (with a server certificate), clients must present a certificate issued by this CA.</summary>
    public X509Certificate2? ClientCertificateAuthority { get; init; }

    /// <summary>The port on 127.0.0.1 to listen on; 0 (the default) takes any free one.</summary>
    public int Port { get; init; }

    /// <summary>Number of target DML pchannels, named target-rootcoord-dml_0 .. _N-1.</summary>
    public int DmlChannelNum { get; init; } = 16;

    public string ChannelPrefix { get; init; } = "target-rootcoord-dml";

    /// <summary>The target's own replicate channel; ReplicateMessage to it only returns its latest position.</summary>
    public string ReplicateChannel { get; init; } = "target-replicate-msg";

    /// <summary>Delay added before every answer.</summary>
    public TimeSpan Latency { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Whether every call (with its decoded request) is kept for <see cref="FakeMilvusServer.Calls"/>. Off for long
    /// runs (benchmarks), where the kept requests would hold every replicated byte in memory.
    /// </summary>
    public bool RecordCalls { get; init; } = true;

    /// <summary>
    /// Whether replicated Inserts and Deletes are parsed and applied to the rows. Off, a ReplicateMessage only checks
    /// the message headers and advances the channel position, so a benchmark measures the CDC, not the fake.
    /// </summary>
    public bool ApplyRows { get; init; } = true;

    /// <summary>
    /// Called after a call was handled and before its answer is written (the moment the target acknowledges it),
    /// with the call and whether it succeeded; runs on the request's thread, so it must be quick.
    /// </summary>
    public Action<FakeMilvusCall, bool>? OnHandled { get; init; }
}
