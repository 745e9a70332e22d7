using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Target;
using Cdc.Testing.FakeMilvus;
using Grpc.Core;

namespace Cdc.Infrastructure.Tests.Target;

public sealed class MilvusRetryTests : IAsyncLifetime
{
    private static readonly MilvusClientOptions FastRetries = new() { MaxRetryAttempts = 3, RetryBaseDelay = TimeSpan.FromMilliseconds(5), RetryMaxDelay = TimeSpan.FromMilliseconds(20) };

    private FakeMilvusServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeMilvusServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private IMilvusTarget Client(MilvusClientOptions? options = null, TimeSpan timeout = default) =>
        new MilvusTargetClient(new MilvusConnection(_server.Uri.ToString(), "", timeout, MilvusDialConfig.None), options ?? FastRetries, TimeProvider.System);

    [Fact]
    public async Task Unavailable_twice_then_the_call_succeeds_after_retries()
    {
        await using var client = Client();
        _server.FailNext(2, StatusCode.Unavailable, "CreateDatabase");

        await client.CreateDatabaseAsync("sales", new Dictionary<string, string>(), HybridTimestamp.Zero, CancellationToken.None);

        Assert.Equal(3, _server.CallsTo("CreateDatabase").Count);
        Assert.Contains("sales", _server.Databases);
    }

    [Theory]
    [InlineData(StatusCode.DeadlineExceeded)]
    [InlineData(StatusCode.ResourceExhausted)]
    public async Task Other_transient_grpc_statuses_are_retried(StatusCode status)
    {
        await using var client = Client();
        _server.FailNext(1, status);

        var databases = await client.ListDatabasesAsync(CancellationToken.None);

        Assert.Contains("default", databases);
        Assert.Equal(2, _server.Calls.Count);
    }

    [Fact]
    public async Task Retriable_milvus_status_is_retried()
    {
        await using var client = Client();
        _server.FailNextWithStatus(1, 1, "service not ready", retriable: true);

        await client.ListDatabasesAsync(CancellationToken.None);

        Assert.Equal(2, _server.Calls.Count);
    }

    [Fact]
    public async Task Non_retryable_errors_are_not_retried()
    {
        await using var client = Client();
        _server.FailNextWithStatus(1, 1100, "invalid parameter");
        _server.FailNext(1, StatusCode.InvalidArgument, "ListDatabases");

        var status = await Assert.ThrowsAsync<MilvusTargetException>(() => client.HasCollectionAsync("default", "x", CancellationToken.None));
        var grpc = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));

        Assert.Equal((1100, false), (status.MilvusCode!.Value, status.IsRetryable));
        Assert.Equal((3, false), (grpc.GrpcStatus!.Value, grpc.IsRetryable));
        Assert.Equal(2, _server.Calls.Count);
    }

    [Fact]
    public async Task Retries_stop_after_the_configured_attempts_with_a_retryable_error()
    {
        await using var client = Client(FastRetries with { MaxRetryAttempts = 2 });
        _server.FailNext(10, StatusCode.Unavailable);

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));

        Assert.Equal(14, error.GrpcStatus);
        Assert.True(error.IsRetryable);
        Assert.Equal(3, _server.Calls.Count);
    }

    [Fact]
    public async Task Slow_target_hits_the_deadline_from_connect_timeout()
    {
        await using var client = Client(new MilvusClientOptions { MaxRetryAttempts = 0 }, timeout: TimeSpan.FromMilliseconds(300));
        _server.Latency = TimeSpan.FromSeconds(3);

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));

        Assert.Equal(4, error.GrpcStatus);
        Assert.True(error.IsRetryable);
        Assert.InRange(MilvusTargetClientTests.GrpcTimeoutMilliseconds(_server.Calls.Single()), 1, 300);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_turned_into_a_milvus_error()
    {
        await using var client = Client();
        _server.Latency = TimeSpan.FromSeconds(3);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ListDatabasesAsync(cts.Token));
    }

    [Fact]
    public async Task Nothing_listening_is_unavailable()
    {
        var port = _server.Uri.Port;
        await _server.DisposeAsync();
        await using var client = new MilvusTargetClient(new MilvusConnection($"http://127.0.0.1:{port}"), new MilvusClientOptions { MaxRetryAttempts = 0 }, TimeProvider.System);

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));

        Assert.Equal(14, error.GrpcStatus);
        _server = await FakeMilvusServer.StartAsync();
    }
}
