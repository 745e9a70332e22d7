using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cdc.Api.Http;
using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;

namespace Cdc.Api.Tests;

/// <summary>
/// get and list keep the answer of a view that does not depend on the time beside the view: the answers must stay those
/// of writing each task at the time of the answer, the lag and the catch-up verdict included.
/// </summary>
public sealed class TaskJsonTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static TaskView View(IReadOnlyList<ChannelPosition> positions, TaskRuntimeReport? runtime, TaskState state = TaskState.Running) =>
        new TaskView("t1", new MilvusTarget("http://target:19530", 10),
            new CollectionSelection([new CollectionInfo("c\"1"), new CollectionInfo("ü")], null), null, false, state, null,
            positions, Now.AddHours(-1), Now.AddHours(-1), 3)
        { Runtime = runtime };

    /// <summary>The answer for <paramref name="t"/> at <paramref name="at"/>, in a list of two (the view twice).</summary>
    private static string List(TaskView t, DateTimeOffset at, Action<Utf8JsonWriter, TaskView, DateTimeOffset> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartArray();
            write(w, t, at);
            write(w, t, at);
            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Answered(TaskView t, DateTimeOffset at) => List(t, at, (w, v, n) => TaskJson.Task(w, v, n, "rpc"));

    private static string AtOnce(TaskView t, DateTimeOffset at) => List(t, at, (w, v, n) => TaskJson.WriteAtOnce(w, v, n, "rpc"));

    private static ulong TimestampAt(DateTimeOffset at) => (ulong)at.ToUnixTimeMilliseconds() << 18;

    [Fact]
    public void A_checkpointed_tasks_lag_moves_with_the_time_of_each_answer()
    {
        var view = View([new ChannelPosition("ch-1", "AQI=", TimestampAt(Now.AddSeconds(-2)), Now), new ChannelPosition("rpc", "AwQ=", TimestampAt(Now.AddSeconds(-9)), Now)], null);

        var first = Answered(view, Now);
        var later = Answered(view, Now.AddSeconds(5));
        Assert.Equal(AtOnce(view, Now), first);
        Assert.Equal(AtOnce(view, Now.AddSeconds(5)), later);
        var lags = JsonNode.Parse(later)!.AsArray()[1]!["position"]!.AsArray().Select(p => p!["lag_ms"]?.GetValue<long>()).ToList();
        Assert.Equal([7000L, null], lags); // the replicate channel carries no lag
        Assert.Equal(7000, JsonNode.Parse(later)![0]!["health"]!["lag_ms"]!.GetValue<long>());
        Assert.Equal("c\"1", JsonNode.Parse(later)![0]!["collection_infos"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void A_catch_up_verdict_goes_stale_even_for_a_view_kept_unchanged()
    {
        var runtime = new TaskRuntimeReport("server-a", null, null, null, Now) { CaughtUpSince = Now.AddMinutes(-1), CaughtUpAsOf = Now };
        var view = View([], runtime);

        Assert.True(JsonNode.Parse(Answered(view, Now.AddSeconds(1)))![0]!["caught_up"]!.GetValue<bool>());
        var stale = Answered(view, Now.AddSeconds(11));
        Assert.False(JsonNode.Parse(stale)![0]!["caught_up"]!.GetValue<bool>());
        Assert.Equal(AtOnce(view, Now.AddSeconds(11)), stale);
    }

    [Fact]
    public void A_task_without_checkpoints_answers_the_same_at_any_time_and_a_changed_view_answers_its_change()
    {
        var view = View([], new TaskRuntimeReport("server-a", "cannot read the source: \"etcd\" unreachable", Now.AddSeconds(-3), null, Now));

        var first = Answered(view, Now);
        Assert.Equal(AtOnce(view, Now), first);
        Assert.Equal(first, Answered(view, Now.AddHours(1)));
        Assert.Equal("retrying", JsonNode.Parse(first)![0]!["health"]!["status"]!.GetValue<string>());

        var paused = view with { State = TaskState.Paused, Reason = "manually pause through http interface" };
        var answer = JsonNode.Parse(Answered(paused, Now))![0]!;
        Assert.Equal(("Paused", "manually pause through http interface", "paused"),
            (answer["state"]!.GetValue<string>(), answer["reason"]!.GetValue<string>(), answer["health"]!["status"]!.GetValue<string>()));
    }
}
