using Cdc.Infrastructure.Source.Metadata;


namespace Cdc.Infrastructure.Tests.Source.Metadata;

public sealed class SourceMetaLayoutTests
{
    private readonly SourceMetaLayout _layout = new();

    [Theory]
    [InlineData("by-dev/meta/root-coord/database/db-info/1", SourceMetaKeyKind.Database, 0, 1)]
    [InlineData("by-dev/meta/root-coord/database/collection-info/1/445993766148522019", SourceMetaKeyKind.Collection, 1, 445993766148522019)]
    [InlineData("by-dev/meta/root-coord/fields/445993766148522019/100", SourceMetaKeyKind.Field, 445993766148522019, 100)]
    [InlineData("by-dev/meta/root-coord/functions/445993766148522019/100", SourceMetaKeyKind.Function, 445993766148522019, 100)]
    [InlineData("by-dev/meta/root-coord/partitions/445993766148522019/445993766148522020", SourceMetaKeyKind.Partition, 445993766148522019, 445993766148522020)]
    public void Keys_of_the_2_3_to_2_5_layout_are_parsed(string key, SourceMetaKeyKind kind, long parent, long id)
    {
        Assert.Equal(new SourceMetaKey(kind, parent, id), _layout.Parse(key));
    }

    [Theory]
    [InlineData("by-dev/meta/snapshots/root-coord/database/collection-info/1/4459_ts445993766148522019")]
    [InlineData("by-dev/meta/root-coord/collection/4459")]
    [InlineData("by-dev/meta/root-coord/database/alias/1/a")]
    [InlineData("by-dev/meta/root-coord/credential/users/root")]
    [InlineData("by-dev/meta/root-coord/fields/4459/x")]
    [InlineData("other/meta/root-coord/database/db-info/1")]
    public void Other_keys_are_not_used(string key)
    {
        Assert.Null(_layout.Parse(key));
    }

    [Fact]
    public void Keys_are_built_under_root_path_and_meta_sub_path()
    {
        var layout = new SourceMetaLayout("cluster-a/", "/meta/");
        Assert.Equal("cluster-a/meta/root-coord/database/collection-info/1/7", layout.CollectionKey(1, 7));
        Assert.Equal("cluster-a/meta/snapshots/root-coord/partitions/7/8_ts99", layout.SnapshotKey(layout.PartitionKey(7, 8), 99));
        Assert.Equal(new SourceMetaKey(SourceMetaKeyKind.Partition, 7, 8), layout.Parse(layout.PartitionKey(7, 8)));
    }
}
