using System.Text;
using Cdc.Infrastructure.Etcd;

namespace Cdc.Infrastructure.Tests.Etcd;

public sealed class EtcdKeyRangeTests
{
    [Theory]
    [InlineData("/cdc/", "/cdc0")]
    [InlineData("by-dev/meta/root-coord/partitions/", "by-dev/meta/root-coord/partitions0")]
    [InlineData("a", "b")]
    public void A_prefix_ends_before_its_last_byte_plus_one(string prefix, string end)
    {
        var range = EtcdKeyRange.ForPrefix(prefix);
        Assert.Equal(Encoding.UTF8.GetBytes(prefix), range.Key);
        Assert.Equal(Encoding.UTF8.GetBytes(end), range.RangeEnd);
    }

    [Fact]
    public void Trailing_0xFF_bytes_are_cut_before_incrementing()
    {
        var range = EtcdKeyRange.ForPrefix([0x61, 0xFF, 0xFF]);
        Assert.Equal(new byte[] { 0x62 }, range.RangeEnd);
    }

    [Fact]
    public void An_all_0xFF_or_empty_prefix_reaches_to_the_end_of_the_key_space()
    {
        Assert.Equal(new byte[] { 0 }, EtcdKeyRange.ForPrefix([0xFF, 0xFF]).RangeEnd);
        Assert.Equal(new byte[] { 0 }, EtcdKeyRange.ForPrefix("").RangeEnd);
    }

    [Fact]
    public void The_key_after_a_key_appends_a_zero_byte() =>
        Assert.Equal(new byte[] { 0x61, 0 }, EtcdKeyRange.After([0x61]));
}
