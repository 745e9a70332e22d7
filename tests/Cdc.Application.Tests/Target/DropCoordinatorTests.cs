using Cdc.Application.Replication.Target;


namespace Cdc.Application.Tests.Target;

public sealed class DropCoordinatorTests
{
    private static readonly string[] Shards = ["dml_0_42v0", "dml_1_42v1"];

    [Fact]
    public async Task The_last_shard_applies_the_drop_once_and_the_others_wait_for_it()
    {
        var drops = new DropCoordinator();
        var applied = 0;
        var release = new TaskCompletionSource();
        Task Apply(CancellationToken _) { applied++; return release.Task; }

        var first = drops.ArriveAsync("c42", Shards, "dml_0", "dml_0_42v0", Apply, CancellationToken.None);
        await Task.Delay(50);
        Assert.False(first.IsCompleted);
        Assert.Equal(0, applied);

        var last = drops.ArriveAsync("c42", Shards, "dml_1", "dml_1_42v1", Apply, CancellationToken.None);
        Assert.Equal(1, applied);
        Assert.False(first.IsCompleted); // not before the drop is applied
        release.SetResult();
        await Task.WhenAll(first, last).WaitAsync(TimeSpan.FromSeconds(5));

        // Seen again (a replay): already applied, nothing to wait for.
        await drops.ArriveAsync("c42", Shards, "dml_0", "dml_0_42v0", Apply, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, applied);
    }

    [Fact]
    public async Task A_drop_naming_no_vchannel_counts_for_a_shard_of_its_pchannel()
    {
        var drops = new DropCoordinator();
        string[] shards = ["dml_0_42v0", "dml_0_42v1"]; // both shards on one pchannel: two messages there
        var applied = 0;
        Task Apply(CancellationToken _) { applied++; return Task.CompletedTask; }

        var first = drops.ArriveAsync("c42", shards, "dml_0", null, Apply, CancellationToken.None);
        Assert.False(first.IsCompleted);
        await drops.ArriveAsync("c42", shards, "dml_0", null, Apply, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        await first.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, applied);
    }

    [Fact]
    public async Task A_waiting_shard_stops_when_cancelled()
    {
        var drops = new DropCoordinator();
        using var stop = new CancellationTokenSource();
        var waiting = drops.ArriveAsync("c42", Shards, "dml_0", "dml_0_42v0", _ => Task.CompletedTask, stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
