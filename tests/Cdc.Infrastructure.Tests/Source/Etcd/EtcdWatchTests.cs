using System.Text;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Source.Etcd;

[Collection(EtcdCollection.Name)]
public sealed class EtcdWatchTests
{
    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
    private static string Text(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    [Fact]
    public async Task Watch_sees_puts_and_deletes_with_previous_values()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var prefix = EtcdTestStore.UniquePrefix("watch");
        var start = (await etcd.RangeAsync(prefix, 0, ct)).Revision + 1;
        await etcd.PutAsync(prefix + "k", Utf8("v1"), ct);
        await etcd.PutAsync(prefix + "k", Utf8("v2"), ct);
        await etcd.PutAsync(prefix.TrimEnd('/') + "-outside", Utf8("x"), ct);
        await etcd.PutAsync(prefix + "k", MetaTombstone.ToArray(), ct);
        await etcd.DeleteAsync(prefix + "k", ct);

        var changes = await etcd.WatchAsync(prefix, start, includePreviousValue: true, ct).Take(4).ToListAsync(ct);

        Assert.Equal([MetaChangeKind.Put, MetaChangeKind.Put, MetaChangeKind.Put, MetaChangeKind.Delete], changes.Select(c => c.Kind));
        Assert.All(changes, c => Assert.Equal(prefix + "k", c.Key));
        Assert.Equal("v1", Text(changes[0].Value));
        Assert.Null(changes[0].PreviousValue);
        Assert.Equal("v2", Text(changes[1].Value));
        Assert.Equal("v1", Text(changes[1].PreviousValue!.Value));
        Assert.True(MetaTombstone.Is(changes[2].Value.Span));
        Assert.Equal("v2", Text(changes[2].PreviousValue!.Value));
        Assert.True(changes[3].Value.IsEmpty);
        Assert.True(MetaTombstone.Is(changes[3].PreviousValue!.Value.Span));
        Assert.Equal(changes.Select(c => c.ModRevision).Order(), changes.Select(c => c.ModRevision));
    }

    [Fact]
    public async Task Watch_without_previous_values_leaves_them_out()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var prefix = EtcdTestStore.UniquePrefix("watch-noprev");
        var start = await etcd.PutAsync(prefix + "k", Utf8("v1"), ct);
        await etcd.PutAsync(prefix + "k", Utf8("v2"), ct);

        var changes = await etcd.WatchAsync(prefix, start, includePreviousValue: false, ct).Take(2).ToListAsync(ct);

        Assert.Equal(["v1", "v2"], changes.Select(c => Text(c.Value)));
        Assert.All(changes, c => Assert.Null(c.PreviousValue));
    }

    [Fact]
    public async Task Watch_from_now_sees_only_later_changes()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var prefix = EtcdTestStore.UniquePrefix("watch-now");
        await etcd.PutAsync(prefix + "before", Utf8("x"), ct);

        await using var watch = etcd.WatchAsync(prefix, 0, true, ct).GetAsyncEnumerator(ct);
        var first = watch.MoveNextAsync().AsTask();
        // The watch is created asynchronously: write until it reports something, then check it is not "before".
        for (var i = 0; !first.IsCompleted && i < 100; i++)
        {
            await etcd.PutAsync(prefix + "after", Utf8($"{i}"), ct);
            await Task.WhenAny(first, Task.Delay(100, ct));
        }

        Assert.True(await first);
        Assert.Equal(prefix + "after", watch.Current.Key);
    }

    [Fact]
    public async Task A_watch_restarted_from_the_last_seen_revision_misses_and_repeats_nothing()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var prefix = EtcdTestStore.UniquePrefix("watch-restart");
        var start = (await etcd.RangeAsync(prefix, 0, ct)).Revision + 1;
        for (var i = 0; i < 3; i++) await etcd.PutAsync($"{prefix}{i}", Utf8("a"), ct);

        var firstPart = await etcd.WatchAsync(prefix, start, true, ct).Take(3).ToListAsync(ct);
        for (var i = 3; i < 6; i++) await etcd.PutAsync($"{prefix}{i}", Utf8("b"), ct);
        var secondPart = await etcd.WatchAsync(prefix, firstPart[^1].ModRevision + 1, true, ct).Take(3).ToListAsync(ct);

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"{prefix}{i}"), firstPart.Concat(secondPart).Select(c => c.Key));
    }

    [Fact]
    public async Task A_watch_whose_connection_breaks_resumes_from_the_last_seen_revision()
    {
        var ct = EtcdTestStore.Deadline(30);
        using var etcd = EtcdTestStore.Client();
        var prefix = EtcdTestStore.UniquePrefix("watch-break");
        await using var network = TcpProxy.Start(EtcdTestStore.Endpoint);
        using var watching = EtcdTestStore.ClientThrough(network);
        var start = (await etcd.RangeAsync(prefix, 0, ct)).Revision + 1;

        await using var watch = watching.WatchAsync(prefix, start, true, ct).GetAsyncEnumerator(ct);
        await etcd.PutAsync(prefix + "0", Utf8("v"), ct);
        Assert.True(await watch.MoveNextAsync());
        var seen = new List<MetaChange> { watch.Current };
        // The connection is reset; written while the watch is away: replayed from history, each exactly once.
        network.Hold();
        network.Cut();
        for (var i = 1; i < 6; i++) await etcd.PutAsync($"{prefix}{i}", Utf8("v"), ct);
        network.Release();
        while (seen.Count < 6 && await watch.MoveNextAsync()) seen.Add(watch.Current);

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"{prefix}{i}"), seen.Select(c => c.Key));
        Assert.Equal(1, network.ConnectionsCut);
        Assert.True(network.ConnectionsAccepted >= 2, $"{network.ConnectionsAccepted} connections");

        // Nothing more is pending: a seventh change is the next one seen, no duplicate comes first.
        await etcd.PutAsync(prefix + "6", Utf8("v"), ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(prefix + "6", watch.Current.Key);
    }

    [Fact]
    public async Task A_watch_whose_endpoint_goes_down_resumes_on_the_next_endpoint()
    {
        var ct = EtcdTestStore.Deadline(30);
        using var etcd = EtcdTestStore.Client();
        var prefix = EtcdTestStore.UniquePrefix("watch-failover");
        // Two endpoints of one etcd, each behind a proxy that can go down.
        await using var first = TcpProxy.Start(EtcdTestStore.Endpoint);
        await using var second = TcpProxy.Start(EtcdTestStore.Endpoint);
        using var watching = EtcdTestStore.ClientThrough(first, second);
        var start = (await watching.RangeAsync(prefix, 0, ct)).Revision + 1;

        await using var watch = watching.WatchAsync(prefix, start, true, ct).GetAsyncEnumerator(ct);
        await etcd.PutAsync(prefix + "0", Utf8("v"), ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(0, second.ConnectionsAccepted);
        first.Refuse();
        for (var i = 1; i < 4; i++) await etcd.PutAsync($"{prefix}{i}", Utf8("v"), ct);
        var rest = new List<string>();
        for (var i = 1; i < 4; i++)
        {
            Assert.True(await watch.MoveNextAsync());
            rest.Add(watch.Current.Key);
        }

        Assert.Equal(Enumerable.Range(1, 3).Select(i => $"{prefix}{i}"), rest);
        Assert.True(second.ConnectionsAccepted >= 1);
        // Calls go on with the second endpoint too.
        await watching.PutAsync(prefix + "4", Utf8("v"), ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(prefix + "4", watch.Current.Key);
    }

    [Fact]
    public async Task Watching_compacted_history_fails_with_the_compaction_revision()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var prefix = EtcdTestStore.UniquePrefix("watch-compacted");
        var first = await etcd.PutAsync(prefix + "k", Utf8("v1"), ct);
        var last = await etcd.PutAsync(prefix + "k", Utf8("v2"), ct);
        await etcd.CompactAsync(last, ct);

        var error = await Assert.ThrowsAsync<MetaHistoryCompactedException>(
            async () => await etcd.WatchAsync(prefix, first, true, ct).ToListAsync(ct));

        Assert.Equal(last, error.CompactRevision);
        Assert.Equal(first, error.RequestedRevision);
        // What the caller does next: rescan and watch from the snapshot's revision.
        var snapshot = await etcd.RangeAsync(prefix, 0, ct);
        Assert.Equal("v2", Text(snapshot.Entries.Single().Value));
        await etcd.PutAsync(prefix + "k", Utf8("v3"), ct);
        var next = await etcd.WatchAsync(prefix, snapshot.Revision + 1, true, ct).FirstAsync(ct);
        Assert.Equal("v3", Text(next.Value));
        Assert.Equal("v2", Text(next.PreviousValue!.Value));
    }

    [Fact]
    public async Task Cancelling_a_watch_ends_it_promptly()
    {
        using var etcd = EtcdTestStore.Client();
        using var cts = new CancellationTokenSource();
        var prefix = EtcdTestStore.UniquePrefix("watch-cancel");
        var reading = Task.Run(async () => await etcd.WatchAsync(prefix, 0, true, cts.Token).ToListAsync(cts.Token));
        await Task.Delay(300);
        cts.CancelAfter(0);
        var finished = await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.Same(reading, finished);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
    }
}
