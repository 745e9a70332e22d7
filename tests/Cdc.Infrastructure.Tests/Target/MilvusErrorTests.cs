using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Target;
using Cdc.Testing.FakeMilvus;
using Grpc.Core;

namespace Cdc.Infrastructure.Tests.Target;

/// <summary>
/// The client makes one attempt per call and says what a failure is: retryable (the target unreachable, slow or
/// overloaded, a Milvus status that asks for a retry) or not. The task's run does the retrying.
/// </summary>
public sealed class MilvusErrorTests : IAsyncLifetime
{
    private FakeMilvusServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeMilvusServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private IMilvusTarget Client(TimeSpan timeout = default) =>
        new MilvusTargetClient(new MilvusConnection(_server.Uri.ToString(), "", timeout, MilvusDialConfig.None));

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.DeadlineExceeded)]
    [InlineData(StatusCode.ResourceExhausted)]
    public async Task Transient_grpc_statuses_are_retryable_failures_of_one_attempt(StatusCode status)
    {
        await using var client = Client();
        _server.FailNext(1, status, "CreateDatabase");

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() =>
            client.CreateDatabaseAsync("sales", new Dictionary<string, string>(), HybridTimestamp.Zero, CancellationToken.None));

        Assert.Equal(((int?)status, true), (error.GrpcStatus, error.IsRetryable));
        Assert.Single(_server.CallsTo("CreateDatabase"));
        await client.CreateDatabaseAsync("sales", new Dictionary<string, string>(), HybridTimestamp.Zero, CancellationToken.None);
        Assert.Contains("sales", _server.Databases);
    }

    [Fact]
    public async Task A_milvus_status_that_asks_for_a_retry_is_retryable()
    {
        await using var client = Client();
        _server.FailNextWithStatus(1, 1, "service not ready", retriable: true);

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));

        Assert.True(error.IsRetryable);
        Assert.Single(_server.Calls);
    }

    [Fact]
    public async Task A_rate_limit_is_retryable_even_when_the_status_does_not_say_so()
    {
        await using var client = Client();
        _server.FailNextWithStatus(1, MilvusTargetException.RateLimitCode, "rate limit exceeded[rate=0.5]", retriable: false);

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));

        Assert.Equal((8, true), (error.MilvusCode!.Value, error.IsRetryable));
        Assert.Contains("rate limit exceeded", error.Message);
    }

    [Fact]
    public async Task Other_errors_are_not_retryable()
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
    public async Task Slow_target_hits_the_deadline_from_connect_timeout()
    {
        await using var client = Client(timeout: TimeSpan.FromMilliseconds(300));
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
        await using var client = new MilvusTargetClient(new MilvusConnection($"http://127.0.0.1:{port}"));

        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));

        Assert.Equal((14, true), (error.GrpcStatus!.Value, error.IsRetryable));
        _server = await FakeMilvusServer.StartAsync();
    }
}
