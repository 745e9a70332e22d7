using System.Text;
using Cdc.Infrastructure.Source.Metadata;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Source.Etcd;

[Collection(EtcdCollection.Name)]
public sealed class EtcdCompactedRangeTests
{
    [Fact]
    public async Task A_ranged_read_at_a_compacted_revision_reports_the_lost_history()
    {
        var ct = EtcdTestStore.Deadline();
        using var etcd = EtcdTestStore.Client();
        var prefix = EtcdTestStore.UniquePrefix("range-compacted");
        var first = await etcd.PutAsync(prefix + "k", Encoding.UTF8.GetBytes("v1"), ct);
        var last = await etcd.PutAsync(prefix + "k", Encoding.UTF8.GetBytes("v2"), ct);
        await etcd.CompactAsync(last, ct);

        var error = await Assert.ThrowsAsync<MetaHistoryCompactedException>(() => etcd.RangeAsync(prefix, first, ct));

        Assert.Equal(first, error.RequestedRevision);
        Assert.Equal("v2", Encoding.UTF8.GetString((await etcd.RangeAsync(prefix, last, ct)).Entries.Single().Value.Span));
    }
}
