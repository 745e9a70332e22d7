using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Infrastructure.EventStore;
using Cdc.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Tests.EventStore;

/// <summary>The subscription side: the high-water mark never lets a reader skip an event that commits late.</summary>
public sealed class EventFeedTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private EventStoreHarness _h = null!;

    public async Task InitializeAsync() => _h = await EventStoreHarness.StartAsync();
    public async Task DisposeAsync() => await _h.DisposeAsync();

    private StreamAppend Create(string id) => new(id, StreamTypes.Task, 0, [EventStoreTests.Created(id)]);

    [Fact]
    public async Task A_transaction_that_commits_late_holds_back_later_events_instead_of_being_skipped()
    {
        await _h.Store.AppendAsync(Create("a"), default);
        var handled = new List<long>();
        var subscription = new EventSubscription("test", _h.Feed, _h.Checkpoints,
            (e, _) => { handled.Add(e.Sequence); return Task.CompletedTask; }, NullLogger.Instance);
        Assert.Equal(1, await subscription.CatchUpAsync(default));

        // "b" takes sequence 2 and then stalls before its commit.
        var inside = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        _h.Store.BeforeCommit = async _ => { inside.SetResult(); await release.Task; };
        var late = _h.Store.AppendAsync(Create("b"), default);
        await inside.Task;
        // "c" is appended meanwhile by another writer (no hook): it must wait, not overtake.
        var other = new PostgresEventStore(_h.DataSource, _h.Options, _h.Types, _h.Projections, TimeProvider.System);
        var after = other.AppendAsync(Create("c"), default);
        await Task.Delay(300);

        Assert.False(after.IsCompleted);
        Assert.Equal(1, await _h.Feed.HighWaterMarkAsync(default));
        Assert.Empty(await _h.Feed.ReadAsync(1, 10, default));
        Assert.Equal(1, await subscription.CatchUpAsync(default));

        release.SetResult();
        await Task.WhenAll(late, after);
        _h.Store.BeforeCommit = null;

        Assert.Equal(3, await subscription.CatchUpAsync(default));
        Assert.Equal([1L, 2, 3], handled);
        Assert.Equal(["a", "b", "c"], (await _h.Feed.ReadAsync(0, 10, default)).Select(e => e.StreamId));
        Assert.Equal(3, await _h.Checkpoints.LoadAsync("test", default));
    }

    [Fact]
    public async Task A_rolled_back_append_leaves_a_permanent_gap_that_readers_pass()
    {
        await _h.Store.AppendAsync(Create("a"), default);
        _h.Store.BeforeCommit = _ => throw new InvalidOperationException("rollback");
        await Assert.ThrowsAsync<InvalidOperationException>(() => _h.Store.AppendAsync(Create("b"), default));
        _h.Store.BeforeCommit = null;
        await _h.Store.AppendAsync(Create("c"), default);

        var events = await _h.Feed.ReadAsync(0, 10, default);
        Assert.Equal(["a", "c"], events.Select(e => e.StreamId));
        Assert.Equal(events[1].Sequence, await _h.Feed.HighWaterMarkAsync(default));
        Assert.True(events[1].Sequence > events[0].Sequence + 1, "the rolled-back append consumed a sequence number");
    }

    [Fact]
    public async Task A_waiting_subscriber_is_woken_by_the_commit_notification()
    {
        var waiting = _h.Feed.WaitForEventsAsync(0, TimeSpan.FromSeconds(60), default);
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        await _h.Store.AppendAsync(Create("a"), default);
        var finished = await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.Same(waiting, finished);
        // already past: returns at once
        await _h.Feed.WaitForEventsAsync(0, TimeSpan.FromSeconds(60), default).WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_subscription_that_fails_resumes_from_its_last_saved_position()
    {
        foreach (var id in new[] { "a", "b", "c" }) await _h.Store.AppendAsync(Create(id), default);
        var failOn = "b";
        var handled = new List<string>();
        var subscription = new EventSubscription("flaky", _h.Feed, _h.Checkpoints, (e, _) =>
        {
            if (e.StreamId == failOn) throw new InvalidOperationException("boom");
            handled.Add(e.StreamId);
            return Task.CompletedTask;
        }, NullLogger.Instance, batchSize: 1);
        await Assert.ThrowsAsync<InvalidOperationException>(() => subscription.CatchUpAsync(default));
        Assert.Equal(1, await _h.Checkpoints.LoadAsync("flaky", default));
        failOn = "";
        Assert.Equal(3, await subscription.CatchUpAsync(default));
        Assert.Equal(["a", "b", "c"], handled);
    }
}
