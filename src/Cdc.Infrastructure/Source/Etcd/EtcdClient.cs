using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Source.Metadata;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mvccpb;

namespace Cdc.Infrastructure.Source.Etcd;

/// <summary>
/// The source Milvus' etcd, through dotnet-etcd's gRPC client (etcd's KV and Watch services of rpc.proto), with
/// optional user/password auth, TLS (one-way or mutual) and several endpoints with fail-over. Ranges are read page by
/// page at one revision; a watch whose stream breaks is resumed from the last seen revision + 1.
/// </summary>
public sealed class EtcdClient : ISourceMetaStore, ISourceMetaWriter, IDisposable
{
    private readonly EtcdOptions _options;
    private readonly EtcdEndpoints _endpoints;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public EtcdClient(EtcdOptions options, TimeProvider time, ILogger<EtcdClient>? logger = null)
        : this(options, time, [], logger)
    {
    }

    /// <summary>With gRPC interceptors on every call to etcd, Authenticate and Watch included (tracing, tests).</summary>
    public EtcdClient(EtcdOptions options, TimeProvider time, IEnumerable<Interceptor> interceptors, ILogger<EtcdClient>? logger = null)
    {
        if (options.RangePageSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "RangePageSize must be positive");
        _options = options;
        _time = time;
        _logger = logger ?? NullLogger<EtcdClient>.Instance;
        _endpoints = new EtcdEndpoints(options, time, [.. interceptors], _logger);
    }

    public async Task<MetaSnapshot> RangeAsync(string prefix, long revision, CancellationToken cancellationToken)
    {
        var (key, rangeEnd) = PrefixRange(prefix);
        var entries = new List<MetaEntry>();
        var from = key;
        while (true)
        {
            // Every page after the first is read at the first page's revision, so the pages form one snapshot.
            var request = new RangeRequest { Key = from, RangeEnd = rangeEnd, Limit = _options.RangePageSize, Revision = Math.Max(revision, 0) };
            RangeResponse page;
            try
            {
                page = await _endpoints.CallAsync("range", (etcd, ct) => etcd.GetAsync(request, cancellationToken: ct), cancellationToken);
            }
            catch (EtcdException e) when (revision > 0 && IsCompacted(e))
            {
                throw new MetaHistoryCompactedException(revision, 0);
            }
            if (revision <= 0) revision = page.Header.Revision;
            foreach (var kv in page.Kvs) entries.Add(Entry(kv));
            if (!page.More || page.Kvs.Count == 0) break;
            from = After(page.Kvs[^1].Key);
        }
        return new MetaSnapshot(entries, revision);
    }

    public async Task<MetaEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8(key) };
        var answer = await _endpoints.CallAsync("get", (etcd, ct) => etcd.GetAsync(request, cancellationToken: ct), cancellationToken);
        return answer.Kvs.Count > 0 ? Entry(answer.Kvs[0]) : null;
    }

    public IAsyncEnumerable<MetaChange> WatchAsync(
        string prefix, long startRevision, bool includePreviousValue, CancellationToken cancellationToken)
    {
        var (key, rangeEnd) = PrefixRange(prefix);
        return new EtcdWatch(_endpoints, _time, _options.WatchReconnectLimit, _logger)
            .RunAsync(key, rangeEnd, startRevision, includePreviousValue, cancellationToken);
    }

    public async Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value.Span) };
        return (await _endpoints.CallAsync("put", (etcd, ct) => etcd.PutAsync(request, cancellationToken: ct), cancellationToken)).Header.Revision;
    }

    public async Task<long> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var request = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) };
        return (await _endpoints.CallAsync("delete", (etcd, ct) => etcd.DeleteAsync(request, cancellationToken: ct), cancellationToken)).Deleted;
    }

    /// <summary>Deletes every key under <paramref name="prefix"/>; returns how many were deleted.</summary>
    public async Task<long> DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var (key, rangeEnd) = PrefixRange(prefix);
        var request = new DeleteRangeRequest { Key = key, RangeEnd = rangeEnd };
        return (await _endpoints.CallAsync("delete", (etcd, ct) => etcd.DeleteAsync(request, cancellationToken: ct), cancellationToken)).Deleted;
    }

    /// <summary>Compacts the store's history up to <paramref name="revision"/> (maintenance and tests).</summary>
    public async Task CompactAsync(long revision, CancellationToken cancellationToken)
    {
        var request = new CompactionRequest { Revision = revision, Physical = true };
        await _endpoints.CallAsync("compact", (etcd, ct) => etcd.CompactAsync(request, cancellationToken: ct), cancellationToken);
    }

    public void Dispose() => _endpoints.Dispose();

    /// <summary>
    /// [key, range_end) of every key starting with <paramref name="prefix"/> (rpc.proto RangeRequest: range_end is the
    /// prefix plus one; "\0" for a prefix of only 0xFF bytes means to the end of the key space).
    /// </summary>
    private static (ByteString Key, ByteString RangeEnd) PrefixRange(string prefix)
    {
        var key = ByteString.CopyFromUtf8(prefix);
        // An empty key is refused by etcd ("key is not provided"); "\0" to "\0" is every key.
        return key.IsEmpty ? (ByteString.CopyFrom(0), ByteString.CopyFrom(0)) : (key, dotnet_etcd.EtcdClient.GetRangeEnd(key));
    }

    /// <summary>The smallest key after <paramref name="key"/>: where the next page of a range starts.</summary>
    private static ByteString After(ByteString key)
    {
        var next = new byte[key.Length + 1];
        key.Span.CopyTo(next);
        return UnsafeByteOperations.UnsafeWrap(next);
    }

    /// <summary>etcd's mvcc.ErrCompacted as rpctypes.ErrGRPCCompacted: OutOfRange, "required revision has been compacted".</summary>
    private static bool IsCompacted(EtcdException e) =>
        e.Status == StatusCode.OutOfRange && e.Message.Contains("required revision has been compacted", StringComparison.Ordinal);

    internal static MetaEntry Entry(KeyValue kv) =>
        new(kv.Key.ToStringUtf8(), kv.Value.Memory, kv.CreateRevision, kv.ModRevision, kv.Version);
}
