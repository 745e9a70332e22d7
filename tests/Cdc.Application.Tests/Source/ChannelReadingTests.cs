using System.Runtime.CompilerServices;
using Cdc.Application.EventStore;
using Cdc.Application.Replication.Checkpoints;
using Cdc.Application.Replication.Source;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Changes;
using Cdc.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using static Cdc.Application.Tests.TestChanges;

namespace Cdc.Application.Tests.Source;

/// <summary>Reading a channel through reader failures, against a scripted source (the MQ is an edge here).</summary>
public sealed class ChannelReadingTests : IAsyncLifetime
{
    private readonly ScriptedChannels _channels = new();
    private readonly TestMonitors _monitors = new();
    private EventStoreHarness _store = null!;

    public async Task InitializeAsync()
    {
        _store = await EventStoreHarness.StartAsync();
        await _store.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private ChannelReading Reading(out CheckpointRecorder checkpoints)
    {
        var monitor = _monitors.Monitor();
        checkpoints = new CheckpointRecorder("t1", _store.Store, TimeProvider.System, null, monitor);
        var retry = new RetryPolicy(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5), 3, monitor, TimeProvider.System, NullLogger.Instance, "t1");
        return new ChannelReading("t1", _channels, retry, checkpoints, monitor, TimeProvider.System, NullLogger.Instance);
    }

    [Fact]
    public async Task A_failed_reader_is_opened_again_after_the_last_completed_message_and_the_failure_shows_until_it_reads()
    {
        var reading = Reading(out _);
        _channels.Script = [[1, 2, 3, -1], [4, 5]]; // the first reader fails after message 3
        var handled = new List<long>();
        var resets = 0;
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var reads = reading.ReadAsync(Channel, SourceChannelStart.After(Position(0)), null, (message, _) =>
        {
            var offset = ((KafkaOffset)message.Id).Offset;
            handled.Add(offset);
            if (offset == 5) done.Cancel();
            // odd offsets complete (a tick closing a pack, say); even ones stay buffered
            return Task.FromResult(offset % 2 == 1 ? Position(offset) : null);
        }, () => resets++, done.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reads);

        Assert.Equal([1L, 2, 3, 4, 5], handled);
        Assert.Equal(1, resets);
        Assert.Equal(Position(3).MessageId.ToArray(), Assert.IsType<SourceChannelStart.AfterPosition>(_channels.Starts[1]).Position.MessageId.ToArray());
    }

    [Fact]
    public async Task A_channel_that_holds_unreadable_data_halts_the_run_with_the_readers_message()
    {
        var reading = Reading(out _);
        _channels.Script = [[1, -2]];
        var halted = await Assert.ThrowsAsync<ReplicationHalted>(() =>
            reading.ReadAsync(Channel, SourceChannelStart.Latest, null, (_, _) => Task.FromResult<SourcePosition?>(null), () => { }, default));
        Assert.Equal($"{ReplicationHalted.Prefix}fail to read the source channel {Channel}: corrupt entry at 2", halted.Reason);
    }

    [Fact]
    public async Task A_channel_opened_at_the_latest_message_is_checkpointed_where_it_starts_before_anything_is_read()
    {
        var reading = Reading(out _);
        _channels.Script = [[]];
        _channels.StartsAfter = Position(41);
        using var stop = new CancellationTokenSource();
        var reads = reading.ReadAsync(Channel, SourceChannelStart.Latest, null, (_, _) => Task.FromResult<SourcePosition?>(null), () => { }, stop.Token);

        for (var i = 0; i < 200 && (await _store.Views.GetAsync("t1", default))!.Positions.Count == 0; i++) await Task.Delay(25);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reads);
        Assert.Equal(Position(41).ToCheckpoint(), Assert.Single((await _store.Views.GetAsync("t1", default))!.Positions).Position);
    }

    private static SourcePosition Position(long offset) => new(Channel, new OffsetEncoder().Encode(new KafkaOffset(offset)));

    /// <summary>
    /// Readers that hand out scripted offsets: each list is one reader; -1 makes it fail (retryable), -N fails with
    /// unreadable data at N; a list that ends waits until cancelled.
    /// </summary>
    private sealed class ScriptedChannels : ISourceChannels
    {
        public List<long[]> Script { get; set; } = [];
        public List<SourceChannelStart> Starts { get; } = [];
        public SourcePosition? StartsAfter { get; set; }

        public Task<ISourceChannelReader> OpenReaderAsync(string channel, SourceChannelStart start, CancellationToken cancellationToken)
        {
            Starts.Add(start);
            var offsets = Script[Starts.Count - 1];
            return Task.FromResult<ISourceChannelReader>(new Reader(channel, offsets, start is SourceChannelStart.LatestStart ? StartsAfter : null));
        }

        private sealed class Reader(string channel, long[] offsets, SourcePosition? startsAfter) : ISourceChannelReader
        {
            public string Channel => channel;

            public SourcePosition? StartsAfter => startsAfter;

            public async IAsyncEnumerable<SourceMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
            {
                foreach (var offset in offsets)
                {
                    if (offset == -1) throw new SourceChannelException(channel, "the broker closed the connection");
                    if (offset < 0) throw new SourceChannelException(channel, $"corrupt entry at {-offset}", retryable: false);
                    yield return new SourceMessage(channel, new KafkaOffset(offset), new Dictionary<string, string>(), new byte[] { 1 });
                }

                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
