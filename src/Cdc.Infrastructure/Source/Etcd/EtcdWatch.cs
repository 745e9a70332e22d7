using System.Runtime.CompilerServices;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Source.Metadata;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace Cdc.Infrastructure.Source.Etcd;

/// <summary>
/// One watch (rpc.proto Watch.Watch, a bidirectional stream) on a stream of dotnet-etcd's Watch client. When the stream
/// breaks, the watch is created again, on the next endpoint if there are several, from the last seen revision + 1:
/// etcd sends the events of one revision in one response, so nothing is missed or repeated.
/// dotnet-etcd's own WatchManager also resumes, but behind callbacks that cannot hold etcd back while the consumer is
/// busy, on one endpoint only, retrying forever without telling the consumer, and without renewing an auth token
/// etcd refused: hence this loop over the plain stream.
/// </summary>
internal sealed class EtcdWatch(EtcdEndpoints endpoints, TimeProvider time, int reconnectLimit, ILogger logger)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    public async IAsyncEnumerable<MetaChange> RunAsync(
        ByteString key, ByteString rangeEnd, long startRevision, bool includePreviousValue,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = startRevision; // 0 until the first "created" answer tells the current revision
        var failures = 0;
        var backoff = FirstBackoff;
        var renewedToken = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var endpoint = endpoints.Current;
            var create = new WatchRequest
            {
                CreateRequest = new WatchCreateRequest
                {
                    Key = key, RangeEnd = rangeEnd, StartRevision = Math.Max(next, 0), PrevKv = includePreviousValue,
                },
            };
            string failure;
            var renewToken = false;
            await using (var stream = await WatchStream.OpenAsync(endpoint, create, cancellationToken))
            {
                while (await stream.ReadAsync(cancellationToken) is { } answer)
                {
                    if (answer.Canceled)
                    {
                        if (answer.CompactRevision > 0) throw new MetaHistoryCompactedException(next, answer.CompactRevision);
                        var reason = answer.CancelReason.Length > 0 ? answer.CancelReason : "no reason given";
                        // A token that expired while the watch was away: etcd cancels the new watch (its reason
                        // "permission denied" or "invalid auth token", depending on the version). Once per token.
                        if (!(endpoint.UsesAuth && !renewedToken && IsAuthRefusal(reason)))
                            throw new EtcdException($"etcd {endpoint} canceled the watch: {reason}", StatusCode.Cancelled);
                        renewToken = true;
                        break;
                    }
                    if (answer.Created)
                    {
                        if (next <= 0) next = answer.Header.Revision + 1;
                        failures = 0;
                        backoff = FirstBackoff;
                        renewedToken = false;
                    }
                    foreach (var ev in answer.Events)
                    {
                        var change = ToChange(ev);
                        // Resume point first: a consumer that stops here has seen this change.
                        next = Math.Max(next, change.ModRevision + 1);
                        yield return change;
                    }
                }
                failure = renewToken ? "etcd refused the auth token" : stream.Failure ?? "etcd ended the stream";
                if (stream.Status is { } status && IsRefusal(status.StatusCode))
                {
                    if (!(status.StatusCode == StatusCode.Unauthenticated && endpoint.UsesAuth && !renewedToken))
                        throw new EtcdException($"etcd {endpoint} refused the watch: {status.Detail}", status.StatusCode);
                    renewToken = true;
                }
            }

            if (renewToken)
            {
                endpoint.RenewToken();
                renewedToken = true;
            }
            else
            {
                endpoints.MoveOnFrom(endpoint, failure);
            }
            if (++failures > reconnectLimit)
                throw new EtcdException(
                    $"the etcd watch could not be resumed from revision {next} after {reconnectLimit} attempts; last: {endpoint}: {failure}",
                    StatusCode.Unavailable);
            logger.LogInformation("etcd watch on {Endpoint} stopped ({Reason}); resuming from revision {Revision}", endpoint, failure, next);
            await Task.Delay(backoff, time, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }
    }

    /// <summary>
    /// Statuses etcd answers a request it will not serve (a wrong password, a missing permission): trying again does
    /// not help, unlike a broken connection or an endpoint going away.
    /// </summary>
    private static bool IsRefusal(StatusCode code) => code is StatusCode.InvalidArgument or StatusCode.PermissionDenied
        or StatusCode.Unauthenticated or StatusCode.FailedPrecondition or StatusCode.OutOfRange or StatusCode.NotFound
        or StatusCode.AlreadyExists or StatusCode.Unimplemented;

    private static bool IsAuthRefusal(string reason) =>
        reason.Contains("auth token", StringComparison.OrdinalIgnoreCase)
        || reason.Contains("permission denied", StringComparison.OrdinalIgnoreCase)
        || reason.Contains("Unauthenticated", StringComparison.Ordinal);

    private static MetaChange ToChange(Event ev)
    {
        var entry = EtcdClient.Entry(ev.Kv);
        // Cast: with a bare null the conditional's type is ReadOnlyMemory<byte> (null converts through byte[]) and
        // "no previous value" would come out as an empty one.
        ReadOnlyMemory<byte>? previous = ev.PrevKv is { } prev ? (ReadOnlyMemory<byte>?)prev.Value.Memory : null;
        var kind = ev.Type == Event.Types.EventType.Delete ? MetaChangeKind.Delete : MetaChangeKind.Put;
        return new MetaChange(kind, entry.Key, entry.Value, entry.ModRevision, previous);
    }

    /// <summary>One open watch stream: answers in, null once it has ended or broken (<see cref="Failure"/> says why).</summary>
    private sealed class WatchStream : IAsyncDisposable
    {
        private AsyncDuplexStreamingCall<WatchRequest, WatchResponse>? _call;

        /// <summary>Why the stream broke; null while it works or when etcd ended it.</summary>
        public string? Failure { get; private set; }

        /// <summary>The gRPC status it broke with, if any.</summary>
        public Status? Status { get; private set; }

        /// <summary>Sends the create request; a stream that cannot be opened comes back already broken.</summary>
        public static async Task<WatchStream> OpenAsync(EtcdEndpoint endpoint, WatchRequest create, CancellationToken cancellationToken)
        {
            var stream = new WatchStream();
            try
            {
                stream._call = endpoint.Client.GetConnection().WatchClient.Watch(cancellationToken: cancellationToken);
                await stream._call.RequestStream.WriteAsync(create, cancellationToken);
            }
            catch (Exception e) when (IsBreak(e, cancellationToken))
            {
                stream.Broke(e);
            }
            return stream;
        }

        public async Task<WatchResponse?> ReadAsync(CancellationToken cancellationToken)
        {
            if (_call is null || Failure is not null) return null;
            try
            {
                return await _call.ResponseStream.MoveNext(cancellationToken) ? _call.ResponseStream.Current : null;
            }
            catch (Exception e) when (IsBreak(e, cancellationToken))
            {
                Broke(e);
                return null;
            }
        }

        private void Broke(Exception e)
        {
            // A write to a call that has already failed throws InvalidOperationException; the call's status says why.
            var status = e is RpcException rpc ? rpc.Status : CompletedStatus();
            if (status is { } known)
            {
                Status = EtcdEndpoints.StatusOf(known);
                Failure = EtcdEndpoints.Describe(Status.Value);
            }
            else
            {
                Failure = e.Message;
            }
        }

        private Status? CompletedStatus()
        {
            try
            {
                return _call?.GetStatus();
            }
            catch (InvalidOperationException)
            {
                return null; // not completed
            }
        }

        /// <summary>Anything but the consumer's own cancellation: a reset connection, an unreachable endpoint, etcd going away.</summary>
        private static bool IsBreak(Exception e, CancellationToken cancellationToken) =>
            !cancellationToken.IsCancellationRequested && e is RpcException or IOException or InvalidOperationException or OperationCanceledException;

        public ValueTask DisposeAsync()
        {
            _call?.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
