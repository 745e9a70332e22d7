using System.Text.Json.Nodes;
using Cdc.Application.Replication.Ports;

namespace Cdc.Infrastructure.Etcd;

/// <summary>
/// The source Milvus' etcd, through etcd's JSON gateway (<c>/v3/kv/range</c>, <c>put</c>, <c>deleterange</c>,
/// <c>/v3/watch</c>), with optional user/password auth and TLS.
/// </summary>
public sealed class EtcdClient : ISourceMetaStore, ISourceMetaWriter, IDisposable
{
    private readonly EtcdOptions _options;
    private readonly EtcdGateway _gateway;
    private readonly TimeProvider _time;

    public EtcdClient(EtcdOptions options, TimeProvider time)
        : this(options, time, EtcdTransport.CreateHandler(options))
    {
    }

    /// <summary>With a caller-made HTTP handler (a test's fault injection, a proxy). TLS options are then the handler's business.</summary>
    public EtcdClient(EtcdOptions options, TimeProvider time, HttpMessageHandler handler)
    {
        if (options.RangePageSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "RangePageSize must be positive");
        _options = options;
        _time = time;
        _gateway = new EtcdGateway(options, handler);
    }

    public async Task<MetaSnapshot> RangeAsync(string prefix, long revision, CancellationToken cancellationToken)
    {
        var range = EtcdKeyRange.ForPrefix(prefix);
        var entries = new List<MetaEntry>();
        var from = range.Key;
        while (true)
        {
            var body = new JsonObject
            {
                ["key"] = EtcdWire.Base64(from),
                ["range_end"] = EtcdWire.Base64(range.RangeEnd),
                ["limit"] = _options.RangePageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            // Every page after the first is read at the first page's revision, so the pages form one snapshot.
            if (revision > 0) body["revision"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
            JsonObject answer;
            try
            {
                answer = await _gateway.CallAsync("kv/range", body, cancellationToken);
            }
            catch (EtcdException e) when (revision > 0 && e.Message.Contains("required revision has been compacted", StringComparison.Ordinal))
            {
                throw new MetaHistoryCompactedException(revision, 0);
            }
            if (revision <= 0) revision = EtcdWire.HeaderRevision(answer);
            var kvs = answer["kvs"] as JsonArray ?? [];
            byte[]? lastKey = null;
            foreach (var kv in kvs)
            {
                if (kv is null) continue;
                entries.Add(EtcdWire.Entry(kv));
                lastKey = EtcdWire.Bytes(kv["key"]);
            }
            if (!EtcdWire.Bool(answer["more"]) || lastKey is null) break;
            from = EtcdKeyRange.After(lastKey);
        }
        return new MetaSnapshot(entries, revision);
    }

    public async Task<MetaEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var answer = await _gateway.CallAsync("kv/range", new JsonObject { ["key"] = EtcdWire.Base64(key) }, cancellationToken);
        return answer["kvs"] is JsonArray { Count: > 0 } kvs && kvs[0] is { } kv ? EtcdWire.Entry(kv) : null;
    }

    public IAsyncEnumerable<MetaChange> WatchAsync(
        string prefix, long startRevision, bool includePreviousValue, CancellationToken cancellationToken) =>
        new EtcdWatch(_gateway, _time, _options.WatchReconnectLimit)
            .RunAsync(EtcdKeyRange.ForPrefix(prefix), startRevision, includePreviousValue, cancellationToken);

    public async Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["key"] = EtcdWire.Base64(key), ["value"] = EtcdWire.Base64(value.Span) };
        return EtcdWire.HeaderRevision(await _gateway.CallAsync("kv/put", body, cancellationToken));
    }

    public async Task<long> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var answer = await _gateway.CallAsync("kv/deleterange", new JsonObject { ["key"] = EtcdWire.Base64(key) }, cancellationToken);
        return EtcdWire.Int64(answer["deleted"]);
    }

    /// <summary>Deletes every key under <paramref name="prefix"/>; returns how many were deleted.</summary>
    public async Task<long> DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var range = EtcdKeyRange.ForPrefix(prefix);
        var body = new JsonObject { ["key"] = EtcdWire.Base64(range.Key), ["range_end"] = EtcdWire.Base64(range.RangeEnd) };
        return EtcdWire.Int64((await _gateway.CallAsync("kv/deleterange", body, cancellationToken))["deleted"]);
    }

    /// <summary>Compacts the store's history up to <paramref name="revision"/> (maintenance and tests).</summary>
    public async Task CompactAsync(long revision, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["revision"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["physical"] = true,
        };
        await _gateway.CallAsync("kv/compaction", body, cancellationToken);
    }

    public void Dispose() => _gateway.Dispose();
}
