using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Cdc.Application.Replication.Ports;

namespace Cdc.Infrastructure.Etcd;

/// <summary>
/// One watch over the JSON gateway's <c>POST /v3/watch</c>: a chunked response with one JSON object per line
/// (<c>{"result":{…}}</c>). When the stream breaks, the watch is created again from the last seen revision + 1;
/// each line holds whole revisions, so nothing is missed or repeated.
/// </summary>
internal sealed class EtcdWatch(EtcdGateway gateway, TimeProvider time, int reconnectLimit)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    public async IAsyncEnumerable<MetaChange> RunAsync(
        EtcdKeyRange range, long startRevision, bool includePreviousValue,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = startRevision; // 0 until the first "created" answer tells the current revision
        var failures = 0;
        var backoff = FirstBackoff;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var renewToken = false;
            var stream = await WatchStream.OpenAsync(gateway, CreateRequest(range, next, includePreviousValue), cancellationToken);
            if (stream is not null)
            {
                await using (stream)
                {
                    while (await stream.ReadAsync(cancellationToken) is { } result)
                    {
                        if (result["error"] is JsonObject error)
                            throw new EtcdException($"etcd watch failed: {error["message"] ?? error}", (int)EtcdWire.Int64(error["grpc_code"]));
                        if (result["result"] is not JsonObject answer) continue;
                        if (EtcdWire.Bool(answer["canceled"]))
                        {
                            var compacted = EtcdWire.Int64(answer["compact_revision"]);
                            if (compacted > 0) throw new MetaHistoryCompactedException(next, compacted);
                            var reason = answer["cancel_reason"]?.GetValue<string>() ?? "no reason given";
                            var canceled = new EtcdException($"etcd canceled the watch: {reason}",
                                reason.Contains("Unauthenticated", StringComparison.Ordinal) ? 16 : 0);
                            // An expired auth token (simple tokens live 5 minutes) shows up here on a reconnect.
                            if (!(canceled.IsUnauthenticated && gateway.UsesAuth)) throw canceled;
                            renewToken = true;
                            break;
                        }
                        if (EtcdWire.Bool(answer["created"]))
                        {
                            if (next <= 0) next = EtcdWire.HeaderRevision(answer) + 1;
                            failures = 0;
                            backoff = FirstBackoff;
                        }
                        if (answer["events"] is not JsonArray events) continue;
                        foreach (var ev in events)
                        {
                            if (ev?["kv"] is not JsonObject kv) continue;
                            var change = ToChange(ev, kv);
                            // Resume point first: a consumer that stops here has seen this change.
                            next = Math.Max(next, change.ModRevision + 1);
                            yield return change;
                        }
                    }
                }
            }

            if (renewToken) await gateway.RenewTokenAsync(cancellationToken);
            if (++failures > reconnectLimit)
                throw new EtcdException($"the etcd watch could not be resumed from revision {next} after {reconnectLimit} attempts", 14);
            await Task.Delay(backoff, time, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }
    }

    private static JsonObject CreateRequest(EtcdKeyRange range, long startRevision, bool includePreviousValue)
    {
        var create = new JsonObject
        {
            ["key"] = EtcdWire.Base64(range.Key),
            ["range_end"] = EtcdWire.Base64(range.RangeEnd),
            ["prev_kv"] = includePreviousValue,
        };
        if (startRevision > 0) create["start_revision"] = startRevision.ToString(CultureInfo.InvariantCulture);
        return new JsonObject { ["create_request"] = create };
    }

    private static MetaChange ToChange(JsonNode ev, JsonObject kv)
    {
        // The event type is left out for PUT (its value 0); only "DELETE" appears.
        var kind = ev["type"]?.GetValue<string>() == "DELETE" ? MetaChangeKind.Delete : MetaChangeKind.Put;
        var entry = EtcdWire.Entry(kv);
        // Not a conditional expression: its type would be byte[], and a null byte[] converts to an empty memory.
        ReadOnlyMemory<byte>? previous = null;
        if (ev["prev_kv"] is JsonObject prev) previous = EtcdWire.Bytes(prev["value"]);
        return new MetaChange(kind, entry.Key, entry.Value, entry.ModRevision, previous);
    }

    /// <summary>The open HTTP response of one watch: lines in, null when the stream has ended or broken.</summary>
    private sealed class WatchStream : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private WatchStream(HttpResponseMessage response, Stream body)
        {
            _response = response;
            _reader = new StreamReader(body);
        }

        /// <summary>Null when etcd cannot be reached (the caller backs off and retries); etcd's own errors throw.</summary>
        public static async Task<WatchStream?> OpenAsync(EtcdGateway gateway, JsonObject request, CancellationToken cancellationToken)
        {
            HttpResponseMessage? response = null;
            try
            {
                response = await gateway.OpenStreamAsync("watch", request, cancellationToken);
                return new WatchStream(response, await response.Content.ReadAsStreamAsync(cancellationToken));
            }
            catch (Exception e) when (IsDisconnect(e, cancellationToken))
            {
                response?.Dispose();
                return null;
            }
        }

        public async Task<JsonNode?> ReadAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                string? line;
                try
                {
                    line = await _reader.ReadLineAsync(cancellationToken);
                }
                catch (Exception e) when (IsDisconnect(e, cancellationToken))
                {
                    return null;
                }
                if (line is null) return null;
                if (line.Length == 0) continue;
                try
                {
                    return JsonNode.Parse(line);
                }
                catch (System.Text.Json.JsonException)
                {
                    return null; // a line cut by a broken connection: resume from the last whole revision
                }
            }
        }

        private static bool IsDisconnect(Exception e, CancellationToken cancellationToken) =>
            !cancellationToken.IsCancellationRequested &&
            e is IOException or HttpRequestException or ObjectDisposedException
                or EtcdException { GrpcCode: 14 }
                or OperationCanceledException; // the handler's own time limits

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
