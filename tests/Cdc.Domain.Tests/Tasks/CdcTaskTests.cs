using Cdc.Domain.Events;
using Cdc.Domain.Tasks;

namespace Cdc.Domain.Tests.Tasks;

public sealed class CdcTaskTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly TaskDefinition Definition = new(
        new MilvusTarget("http://localhost:19530", 10),
        new CollectionSelection([new CollectionInfo("*")], null));

    private static CdcTask Created(out TaskCreated created)
    {
        created = CdcTask.Create(new TaskId("t1"), Definition, Now);
        return CdcTask.Replay("t1", [created]);
    }

    [Fact]
    public void A_created_task_runs_at_version_one()
    {
        var task = Created(out var created);
        Assert.Equal("t1", created.TaskId);
        Assert.Equal(TaskState.Running, task.State);
        Assert.Equal(1, task.Version);
        Assert.True(task.Exists);
        Assert.Same(Definition, task.Definition);
    }

    [Fact]
    public void Pause_then_resume_records_and_clears_the_reason()
    {
        var task = Created(out _);
        var paused = task.Pause(TaskPaused.ManualReason, Now);
        Assert.Equal("manually pause through http interface", paused.Reason);
        task.Apply(paused);
        Assert.Equal((TaskState.Paused, "manually pause through http interface", 2L), (task.State, task.Reason, task.Version));

        task.Apply(task.Resume(Now));
        Assert.Equal((TaskState.Running, (string?)null, 3L), (task.State, task.Reason, task.Version));
    }

    [Fact]
    public void Pausing_twice_or_resuming_a_running_task_is_refused_with_the_reference_text()
    {
        var task = Created(out _);
        var running = Assert.Throws<TaskRuleViolation>(() => task.Resume(Now));
        Assert.Equal((TaskRule.AlreadyRunning, "the task has running, task_id: t1"), (running.Rule, running.Message));
        task.Apply(task.Pause("x", Now));
        var paused = Assert.Throws<TaskRuleViolation>(() => task.Pause("y", Now));
        Assert.Equal((TaskRule.AlreadyPaused, "the task has paused, task_id: t1"), (paused.Rule, paused.Message));
    }

    [Fact]
    public void A_deleted_or_never_created_task_takes_no_command()
    {
        var task = Created(out _);
        task.Apply(task.Delete(Now));
        Assert.False(task.Exists);
        foreach (var command in new Action[] { () => task.Pause("x", Now), () => task.Resume(Now), () => task.Delete(Now) })
            Assert.Equal(TaskRule.NotFound, Assert.Throws<TaskRuleViolation>(command).Rule);

        var nothing = CdcTask.Replay("t2", []);
        Assert.Equal("not found the task, task_id: t2", Assert.Throws<TaskRuleViolation>(() => nothing.Pause("x", Now)).Message);
    }

    [Fact]
    public void A_restored_task_decides_as_the_replayed_one_and_appends_at_its_version()
    {
        var paused = CdcTask.Restore("t1", TaskState.Paused, "why", 4);
        Assert.Equal((true, TaskState.Paused, "why", 4L), (paused.Exists, paused.State, paused.Reason, paused.Version));
        Assert.Null(paused.Definition);
        Assert.Equal(TaskRule.AlreadyPaused, Assert.Throws<TaskRuleViolation>(() => paused.Pause("x", Now)).Rule);
        paused.Apply(paused.Resume(Now));
        Assert.Equal((TaskState.Running, (string?)null, 5L), (paused.State, paused.Reason, paused.Version));
        paused.Apply(paused.Delete(Now));
        Assert.False(paused.Exists);
        Assert.Throws<ArgumentOutOfRangeException>(() => CdcTask.Restore("t2", TaskState.Running, null, 0));
    }

    [Fact]
    public void Masking_hides_every_credential_but_keeps_the_rest()
    {
        var target = new MilvusTarget("http://h:1", 5, Username: "alice", Password: new ProtectedSecret("v1:abc"), Token: new ProtectedSecret("v1:def"));
        var created = new TaskCreated("t", Definition with { Target = target }, Now);
        var masked = (TaskCreated)created.Masked();
        Assert.Equal(ProtectedSecret.Mask, masked.Definition.Target.Username);
        Assert.Equal(ProtectedSecret.Mask, masked.Definition.Target.Password!.Ciphertext);
        Assert.Equal(ProtectedSecret.Mask, masked.Definition.Target.Token!.Ciphertext);
        Assert.Equal("http://h:1", masked.Definition.Target.Uri);
        Assert.Equal("v1:def", created.Definition.Target.Token!.Ciphertext); // the original is untouched
        Assert.Equal(ProtectedSecret.Mask, target.Token!.ToString());
    }

    [Theory]
    [InlineData("default", "books", true)]
    [InlineData("", "books", true)]
    [InlineData("other", "books", true)] // a database created later included
    public void Collection_infos_star_covers_the_whole_cluster(string db, string collection, bool covered) =>
        Assert.Equal(covered, new CollectionSelection([new CollectionInfo("*")], null).Covers(db, collection));

    [Theory]
    [InlineData("default", "books", true)]
    [InlineData("", "books", true)] // Milvus leaves the default database's name empty
    [InlineData("default", "films", false)]
    [InlineData("other", "books", false)]
    public void Named_collection_infos_are_collections_of_the_default_database(string db, string collection, bool covered) =>
        Assert.Equal(covered, new CollectionSelection([new CollectionInfo("books")], null).Covers(db, collection));

    [Theory]
    [InlineData("*", "any", true)]
    [InlineData("sales", "sales", true)]
    [InlineData("sales", "default", false)]
    public void Db_collections_cover_the_named_database_or_all(string key, string db, bool covered) =>
        Assert.Equal(covered, new CollectionSelection(null, new Dictionary<string, IReadOnlyList<CollectionInfo>> { [key] = [new CollectionInfo("*")] }).Covers(db, "c"));

    [Theory]
    [InlineData("6623ae52d35842a5a2c9d89b16ed7aa1", true)]
    [InlineData("dr-task_1", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("../etc", false)]
    public void Task_ids_are_checked(string id, bool ok) => Assert.Equal(ok, TaskId.IsWellFormed(id));

    [Fact]
    public void New_task_ids_are_32_lowercase_hex() => Assert.Matches("^[0-9a-f]{32}$", TaskId.New().Value);
}
