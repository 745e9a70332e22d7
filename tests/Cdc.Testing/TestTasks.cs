using Cdc.Domain.Events;
using Cdc.Domain.Tasks;

namespace Cdc.Testing;

/// <summary>Task events as tests append them straight to the event store.</summary>
public static class TestTasks
{
    /// <summary>A create of the seed's kind: every collection of the default database, an encrypted token.</summary>
    public static TaskCreated Created(string id) => new(id, new TaskDefinition(
        new MilvusTarget("http://localhost:19530", 10, Token: new ProtectedSecret("v1:x")),
        new CollectionSelection([new CollectionInfo("*")], null)), DateTimeOffset.UtcNow);
}
