using System.Text.Json.Nodes;
using Cdc.Application.Replication.Routing;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Testing.FakeMilvus;
using Xunit.Abstractions;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Api.Tests.Scenarios;

/// <summary>What the scenarios do through POST /cdc: a server's envelope call, whichever way the server runs.</summary>
internal delegate Task<(int Status, JsonObject Body)> CdcCall(string requestType, object? requestData);

/// <summary>
/// What the scenarios share: the task's create request for the fake target, reading a task back through get, waiting
/// with a deadline for what must happen eventually, and comparing the target's rows with the source's.
/// </summary>
internal static class Scenario
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Creates a task replicating every collection of the default database into <paramref name="target"/>, in
    /// <paramref name="applyMode"/> when given (create's <c>apply_mode</c>), from the latest message or from
    /// <paramref name="startFrom"/> (create's <c>start_from</c>).
    /// </summary>
    public static async Task<string> CreateTaskAsync(CdcCall cdc, FakeMilvusServer target, string? applyMode = null, string? startFrom = null)
    {
        var data = new JsonObject
        {
            ["milvus_connect_param"] = new JsonObject { ["uri"] = target.Uri.ToString(), ["token"] = "root:Milvus", ["connect_timeout"] = 10 },
            ["collection_infos"] = new JsonArray(new JsonObject { ["name"] = "*" }),
        };
        if (applyMode is not null) data["apply_mode"] = applyMode;
        if (startFrom is not null) data["start_from"] = startFrom;
        var (status, body) = await cdc("create", data);
        Assert.True(status == 200, $"create answered {status}: {body.ToJsonString()}");
        return body["data"]!["task_id"]!.GetValue<string>();
    }

    /// <summary>The task as get shows it: its state and reason (null when there is none).</summary>
    public static async Task<(string State, string? Reason)> GetTaskAsync(CdcCall cdc, string taskId)
    {
        var (status, body) = await cdc("get", new { task_id = taskId });
        Assert.True(status == 200, $"get answered {status}: {body.ToJsonString()}");
        var task = body["data"]!["Task"]!;
        return (task["state"]!.GetValue<string>(), task["reason"]?.GetValue<string>());
    }

    /// <summary>Waits until get shows the task Paused (<paramref name="what"/> names why it should); its reason.</summary>
    public static async Task<string> PausedReasonAsync(CdcCall cdc, string taskId, string what, TimeSpan? limit = null)
    {
        string? reason = null;
        await EventuallyAsync(async () =>
        {
            var task = await GetTaskAsync(cdc, taskId);
            reason = task.Reason;
            return task.State == "Paused";
        }, () => what, limit);
        return Assert.IsType<string>(reason);
    }

    /// <summary>The primary keys the target holds in a collection of the default database (none while it does not exist).</summary>
    public static IReadOnlyList<long> TargetRows(FakeMilvusServer target, string collection) =>
        target.Collections.Any(c => c.DbName == "default" && c.Name == collection)
            ? [.. target.Rows("default", collection).Select(r => (long)r.PrimaryKey).Order()]
            : [];

    /// <summary>
    /// Waits until the target holds exactly the source's rows in each collection; every target pchannel received its
    /// messages in time order meanwhile (<see cref="AssertTimeInOrder"/>).
    /// </summary>
    public static async Task TargetEqualsSourceAsync(FakeMilvusServer target, ScenarioSource source, IReadOnlyList<string> collections, TimeSpan? limit = null)
    {
        await EventuallyAsync(() => collections.All(c => TargetRows(target, c).SequenceEqual(source.Rows(c))),
            () => "the target's rows equal the source's: " + string.Join("; ", collections.Select(c => Difference(target, source, c))), limit);
        AssertTimeInOrder(target);
    }

    /// <summary>
    /// No target pchannel's time went back: its time ticks never decreased, and every Insert, Delete and drop was above
    /// the last tick the channel had received (what Milvus's consumers of the channel rely on).
    /// </summary>
    public static void AssertTimeInOrder(FakeMilvusServer target)
    {
        var violations = target.TimeViolations;
        Assert.True(violations.Count == 0,
            $"{violations.Count} messages went back in time on the target, e.g.:\n{string.Join("\n", violations.Take(10))}");
    }

    /// <summary>
    /// Every target pchannel that had received ticks at <paramref name="before"/> (a crash, a take-over) received later
    /// ones since: its time went on above what it was; how far its last tick is beyond that one is written out.
    /// </summary>
    public static void AssertTimeMovedOn(FakeMilvusServer target, IReadOnlyDictionary<string, ulong> before, ITestOutputHelper output)
    {
        var now = target.LastTicks;
        Assert.NotEmpty(before);
        foreach (var (channel, tick) in before)
        {
            Assert.True(now[channel] > tick, $"{channel}: no tick above {tick} after it");
            output.WriteLine($"{channel}: last tick {(long)(now[channel] >> 18) - (long)(tick >> 18)} ms after the one at the crash");
        }
    }

    /// <summary>Writes out how many keys the target was sent more writes than the source made (re-sent after a crash).</summary>
    public static void WriteResent(ScenarioSource source, FakeMilvusServer target, ITestOutputHelper output)
    {
        var onTarget = TargetWrites(target);
        var writes = source.Writes;
        output.WriteLine($"{writes.Count(w => onTarget.GetValueOrDefault(w.Key, "").Length > w.Value.Length)} of {writes.Count} keys had writes "
                         + "delivered again after the crash (the same writes in the same order; the target keeps one row per key)");
    }

    /// <summary>How the target's rows of a collection differ from the source's, for a failure message.</summary>
    public static string Difference(FakeMilvusServer target, ScenarioSource source, string collection)
    {
        var onTarget = TargetRows(target, collection).ToHashSet();
        var onSource = source.Rows(collection).ToHashSet();
        var missing = onSource.Except(onTarget).Order().ToList();
        var extra = onTarget.Except(onSource).Order().ToList();
        return $"{collection}: source {onSource.Count} rows, target {onTarget.Count}, missing {missing.Count} (first {string.Join(",", missing.Take(5))}), "
               + $"extra {extra.Count} (first {string.Join(",", extra.Take(5))})";
    }

    /// <summary>
    /// Every key's writes as the target received them, in the order of its ReplicateMessage calls: "I" for an insert,
    /// "D" for a delete, per collection name and primary key (the same shape as <see cref="ScenarioSource.Writes"/>).
    /// </summary>
    public static IReadOnlyDictionary<(string Collection, long Key), string> TargetWrites(FakeMilvusServer target)
    {
        var names = target.Collections.ToDictionary(c => c.Id, c => c.Name);
        var writes = new Dictionary<(string Collection, long Key), string>();
        foreach (var call in target.CallsTo("ReplicateMessage"))
        {
            foreach (var bytes in call.RequestAs<Rpc.ReplicateMessageRequest>().Msgs)
            {
                switch (MsgHeader.Parser.ParseFrom(bytes).Base.MsgType)
                {
                    case MsgType.Insert:
                        var insert = InsertRequest.Parser.ParseFrom(bytes);
                        var column = insert.FieldsData.First(f => f.FieldName == "pk");
                        foreach (var key in column.Scalars.LongData.Data) Append(names[insert.CollectionID], key, 'I');
                        break;
                    case MsgType.Delete:
                        var delete = DeleteRequest.Parser.ParseFrom(bytes);
                        var deleted = delete.PrimaryKeys?.IntId?.Data ?? delete.Int64PrimaryKeys;
                        foreach (var key in deleted) Append(names[delete.CollectionID], key, 'D');
                        break;
                }
            }
        }

        return writes;

        void Append(string collection, long key, char write) =>
            writes[(collection, key)] = writes.GetValueOrDefault((collection, key)) + write;
    }

    /// <summary>
    /// Asserts that the target received each key's writes exactly as the source made them, none lost, none twice, in
    /// order. Rows go to the target as they are read, ahead of their tick, so the target can equal the source for a
    /// moment while writes that cancel out (a delete and re-insert of the same keys) are still on their way: the writes
    /// are compared once they have all arrived, or after 10 s. Returns the target's writes.
    /// </summary>
    public static async Task<IReadOnlyDictionary<(string Collection, long Key), string>> AssertWritesAsOnSourceAsync(
        FakeMilvusServer target, ScenarioSource source, CancellationToken ct)
    {
        var onSource = source.Writes;
        IReadOnlyDictionary<(string Collection, long Key), string> onTarget;
        List<string> different;
        for (var attempt = 0; ; attempt++)
        {
            onTarget = TargetWrites(target);
            different = [.. onSource.Where(w => onTarget.GetValueOrDefault(w.Key) != w.Value).Take(5)
                .Select(w => $"{w.Key.Collection}/{w.Key.Key}: source {w.Value}, target {onTarget.GetValueOrDefault(w.Key) ?? "nothing"}")];
            if ((different.Count == 0 && onTarget.Count == onSource.Count) || attempt >= 100) break;
            await Task.Delay(100, ct);
        }

        Assert.True(different.Count == 0, "writes of a key differ: " + string.Join("; ", different));
        Assert.Equal(onSource.Count, onTarget.Count);
        return onTarget;
    }

    /// <summary>
    /// Ticks the source until a pack reached every target pchannel of the collections: the task opens all its readers
    /// (at the latest offsets, as a new task does) before it writes anything, so from then on no write is missed.
    /// </summary>
    public static async Task WaitUntilReadingAsync(FakeMilvusServer target, ScenarioSource source, IReadOnlyList<string> collections, CancellationToken ct)
    {
        await EventuallyAsync(() => collections.All(c => target.Collections.Any(t => t.DbName == "default" && t.Name == c)),
            () => "the collections on the target");
        var channels = collections.SelectMany(c => target.Collection("default", c).VirtualChannels).Select(ChannelMapping.ToPhysical).ToHashSet();
        var deadline = DateTimeOffset.UtcNow + WaitLimit;
        while (!channels.IsSubsetOf(target.CallsTo("ReplicateMessage").Select(c => c.RequestAs<Rpc.ReplicateMessageRequest>().ChannelName)))
        {
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail("timed out waiting for the first time ticks on the target");
            await source.TickAsync(ct);
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, failing with <paramref name="what"/> after the limit.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, Func<string> what, TimeSpan? limit = null)
    {
        var deadline = DateTimeOffset.UtcNow + (limit ?? WaitLimit);
        while (!condition())
        {
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail($"timed out waiting for {what()}");
            await Task.Delay(100);
        }
    }

    public static async Task EventuallyAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan? limit = null)
    {
        var deadline = DateTimeOffset.UtcNow + (limit ?? WaitLimit);
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail($"timed out waiting for {what()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The keys <paramref name="from"/> .. <paramref name="from"/>+<paramref name="count"/>-1.</summary>
    public static long[] Keys(long from, int count) => [.. Enumerable.Range(0, count).Select(i => from + i)];
}
