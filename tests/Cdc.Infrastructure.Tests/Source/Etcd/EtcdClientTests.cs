using System.Text;
using Cdc.Infrastructure.Source.Etcd;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Source.Etcd;

[Collection(EtcdCollection.Name)]
public sealed class EtcdClientTests
{
    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Range_reads_every_key_under_the_prefix_page_by_page_and_nothing_beside_it()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client(pageSize: 7);
        var prefix = EtcdTestStore.UniquePrefix("range");
        long lastRevision = 0;
        for (var i = 0; i < 25; i++) lastRevision = await etcd.PutAsync($"{prefix}{i:D3}", Utf8($"v{i}"), ct);
        // Neighbours of the prefix that must stay out: the prefix without its slash, and range_end itself.
        await etcd.PutAsync(prefix.TrimEnd('/'), Utf8("outside"), ct);
        await etcd.PutAsync(prefix.TrimEnd('/') + "0", Utf8("outside"), ct);

        var snapshot = await etcd.RangeAsync(prefix, 0, ct);

        Assert.Equal(25, snapshot.Entries.Count);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"{prefix}{i:D3}"), snapshot.Entries.Select(e => e.Key));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"v{i}"), snapshot.Entries.Select(e => Encoding.UTF8.GetString(e.Value.Span)));
        Assert.True(snapshot.Revision >= lastRevision + 2);
        Assert.All(snapshot.Entries, e => Assert.True(e.ModRevision <= lastRevision && e.Version == 1 && e.CreateRevision == e.ModRevision));
    }

    [Fact]
    public async Task Range_at_an_old_revision_sees_the_store_as_it_was_across_all_pages()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client(pageSize: 2);
        var prefix = EtcdTestStore.UniquePrefix("range-rev");
        for (var i = 0; i < 5; i++) await etcd.PutAsync($"{prefix}{i}", Utf8("old"), ct);
        var then = (await etcd.RangeAsync(prefix, 0, ct)).Revision;
        for (var i = 0; i < 5; i++) await etcd.PutAsync($"{prefix}{i}", Utf8("new"), ct);
        await etcd.PutAsync($"{prefix}9", Utf8("new"), ct);
        await etcd.DeleteAsync($"{prefix}0", ct);

        var old = await etcd.RangeAsync(prefix, then, ct);

        Assert.Equal(then, old.Revision);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{prefix}{i}"), old.Entries.Select(e => e.Key));
        Assert.All(old.Entries, e => Assert.Equal("old", Encoding.UTF8.GetString(e.Value.Span)));
        var now = await etcd.RangeAsync(prefix, 0, ct);
        Assert.Equal(new[] { 1, 2, 3, 4, 9 }.Select(i => $"{prefix}{i}"), now.Entries.Select(e => e.Key));
    }

    [Fact]
    public async Task Put_get_and_delete_one_key()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var key = EtcdTestStore.UniquePrefix("kv") + "k";
        byte[] value = [0, 1, 2, 0xFF, 0x80];

        var revision = await etcd.PutAsync(key, value, ct);
        var entry = await etcd.GetAsync(key, ct);

        Assert.NotNull(entry);
        Assert.Equal(key, entry.Key);
        Assert.Equal(value, entry.Value.ToArray());
        Assert.Equal(revision, entry.ModRevision);
        Assert.Equal(1, await etcd.DeleteAsync(key, ct));
        Assert.Null(await etcd.GetAsync(key, ct));
        Assert.Equal(0, await etcd.DeleteAsync(key, ct));
    }

    [Fact]
    public async Task An_empty_value_reads_back_empty()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var key = EtcdTestStore.UniquePrefix("empty") + "k";
        await etcd.PutAsync(key, ReadOnlyMemory<byte>.Empty, ct);
        var entry = await etcd.GetAsync(key, ct);
        Assert.NotNull(entry);
        Assert.True(entry.Value.IsEmpty);
    }

    [Fact]
    public async Task A_tombstone_written_by_Milvus_is_recognised_after_a_round_trip()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var key = EtcdTestStore.UniquePrefix("tombstone") + "collection-info/1/445";
        await etcd.PutAsync(key, Utf8("created"), ct);
        await etcd.PutAsync(key, MetaTombstone.ToArray(), ct);

        var entry = await etcd.GetAsync(key, ct);

        Assert.NotNull(entry);
        Assert.True(MetaTombstone.Is(entry.Value.Span));
        Assert.Equal(new byte[] { 0xE2, 0x9B, 0xBC }, entry.Value.ToArray());
        Assert.Equal("4pu8", Convert.ToBase64String(entry.Value.Span));
    }

    [Fact]
    public async Task An_endpoint_that_does_not_answer_is_skipped_for_the_next_one()
    {
        var ct = EtcdTestStore.Deadline();
        var shared = EtcdTestStore.Options();
        var options = shared with { Address = ["127.0.0.1:1", .. shared.Address] }; // nothing listens on port 1
        using var etcd = new EtcdClient(options, TimeProvider.System);
        var key = EtcdTestStore.UniquePrefix("failover") + "k";

        await etcd.PutAsync(key, Utf8("v"), ct);

        Assert.Equal("v", Encoding.UTF8.GetString((await etcd.GetAsync(key, ct))!.Value.Span));
    }

    [Fact]
    public async Task No_endpoint_answering_is_an_etcd_error()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = new EtcdClient(EtcdTestStore.Options() with { Address = ["127.0.0.1:1"] }, TimeProvider.System);
        var error = await Assert.ThrowsAsync<EtcdException>(() => etcd.GetAsync("k", ct));
        Assert.Contains("no etcd endpoint answered", error.Message);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0xE2, 0x9B })]
    [InlineData(new byte[] { 0xE2, 0x9B, 0xBC, 0x00 })]
    [InlineData(new byte[] { 0x08, 0x01 })]
    public void Other_values_are_not_tombstones(byte[] value) => Assert.False(MetaTombstone.Is(value));
}
