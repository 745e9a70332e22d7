using Cdc.Infrastructure.Milvus.Protos.Etcd;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.Source.Metadata;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Tests.Source.Metadata;

public sealed class SourceMetaMirrorTests
{
    private readonly SourceMetaLayout _layout = new();

    private static CollectionInfo Info(long id, long dbId, string name) => new()
    {
        ID = id,
        DbId = dbId,
        Schema = new CollectionSchema { Name = name },
        State = CollectionState.CollectionCreated,
    };

    [Fact]
    public void A_collection_moved_to_another_database_does_not_look_removed()
    {
        var mirror = new SourceMetaMirror(_layout, NullLogger.Instance);
        mirror.Apply(_layout.DatabaseKey(7), new DatabaseInfo { Id = 7, Name = "other", State = DatabaseState.DatabaseCreated }.ToByteArray());
        mirror.Apply(_layout.CollectionKey(1, 50), Info(50, 1, "c").ToByteArray());

        // Milvus' rename into another database: the new key first, then the old key's tombstone (one transaction).
        mirror.Apply(_layout.CollectionKey(7, 50), Info(50, 7, "c2").ToByteArray());
        Assert.Equal(("other", "c2"), (mirror.Collection(50)!.DbName, mirror.Collection(50)!.Name));
        mirror.Apply(_layout.CollectionKey(1, 50), MetaTombstone.ToArray());

        var moved = mirror.Collection(50);
        Assert.NotNull(moved);
        Assert.Equal((7L, "other", "c2"), (moved.DbId, moved.DbName, moved.Name));
        mirror.Apply(_layout.CollectionKey(7, 50), MetaTombstone.ToArray());
        Assert.Null(mirror.Collection(50));
    }

    [Fact]
    public void Undecodable_values_are_treated_as_absent_and_unknown_keys_are_ignored()
    {
        var mirror = new SourceMetaMirror(_layout, NullLogger.Instance);

        Assert.NotNull(mirror.Apply(_layout.CollectionKey(1, 50), new byte[] { 0xFF, 0xFF, 0xFF }));
        Assert.Null(mirror.Apply("by-dev/meta/root-coord/credential/users/root", new byte[] { 1 }));

        Assert.Null(mirror.Collection(50));
        Assert.Empty(mirror.CollectionIds);
    }
}
