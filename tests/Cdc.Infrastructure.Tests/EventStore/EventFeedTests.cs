using Cdc.Application.EventStore;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.EventStore;

/// <summary>The audit feed: its high-water mark never lets a reader skip an event that commits late.</summary>
public sealed class EventFeedTests : IAsyncLifetime
{
    private EventStoreHarness _h = null!;

    public async Task InitializeAsync() => _h = await EventStoreHarness.StartAsync();
    public async Task DisposeAsync() => await _h.DisposeAsync();

    private StreamAppend Create(string id) => new(id, StreamTypes.Task, 0, [TestTasks.Created(id)]);

    [Fact]
    public async Task A_transaction_that_commits_late_holds_back_later_events_instead_of_being_skipped()
    {
        await _h.Store.AppendAsync(Create("a"), default);
        Assert.Equal(["a"], (await _h.Feed.ReadAsync(0, 10, default)).Select(e => e.StreamId));
        var first = await _h.Feed.HighWaterMarkAsync(default);

        // "b" takes its sequence number and then stalls before its commit.
        var inside = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        _h.Store.BeforeCommit = async _ => { inside.TrySetResult(); await release.Task; };
        var late = _h.Store.AppendAsync(Create("b"), default);
        await inside.Task;
        _h.Store.BeforeCommit = null;
        // "c" is appended and committed meanwhile by another writer: a reader must not pass "b"'s number.
        await new Infrastructure.EventStore.MartenEventStore(_h.Documents, _h.Options).AppendAsync(Create("c"), default);

        Assert.Equal(first, await _h.Feed.HighWaterMarkAsync(default));
        Assert.Empty(await _h.Feed.ReadAsync(first, 10, default));

        release.SetResult();
        await late;
        var events = await _h.Feed.ReadAsync(first, 10, default);
        Assert.Equal(["b", "c"], events.Select(e => e.StreamId));
        Assert.Equal(events[^1].Sequence, await _h.Feed.HighWaterMarkAsync(default));
    }

    [Fact]
    public async Task The_gap_a_rolled_back_append_leaves_is_passed_once_no_transaction_can_fill_it()
    {
        var feed = new Infrastructure.EventStore.MartenEventFeed(_h.Documents, _h.Options, TimeProvider.System, TimeSpan.FromSeconds(1));
        await _h.Store.AppendAsync(Create("a"), default);
        _h.Store.BeforeCommit = _ => throw new InvalidOperationException("rollback");
        await Assert.ThrowsAsync<InvalidOperationException>(() => _h.Store.AppendAsync(Create("b"), default));
        _h.Store.BeforeCommit = null;
        await _h.Store.AppendAsync(Create("c"), default);

        // The gap could be an append still in flight until it is older than the timeout; then readers pass it.
        await Task.Delay(feed.GapTimeout + TimeSpan.FromMilliseconds(200));
        var events = await feed.ReadAsync(0, 10, default);
        Assert.Equal(["a", "c"], events.Select(e => e.StreamId));
        Assert.Equal(events[1].Sequence, await feed.HighWaterMarkAsync(default));
        Assert.True(events[1].Sequence > events[0].Sequence + 1, "the rolled-back append took a sequence number");
    }

    [Fact]
    public async Task Pages_continue_where_the_previous_one_ended()
    {
        foreach (var id in new[] { "a", "b", "c", "d", "e" }) await _h.Store.AppendAsync(Create(id), default);
        var seen = new List<string>();
        var after = 0L;
        while (true)
        {
            var page = await _h.Feed.ReadAsync(after, 2, default);
            if (page.Count == 0) break;
            Assert.True(page.Count <= 2);
            seen.AddRange(page.Select(e => e.StreamId));
            after = page[^1].Sequence;
        }
        Assert.Equal(["a", "b", "c", "d", "e"], seen);
    }
}
