using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Cdc.Application.Replication.Source;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Testing;
using Cdc.Testing.FakePulsar;
using static Cdc.Testing.FakePulsar.PulsarTestSource;

namespace Cdc.Testing.Tests.FakePulsar;

/// <summary>
/// The fake broker and the reader against an independent implementation of the Pulsar binary protocol: pulsar-flex,
/// a pure-JavaScript client from npm, run with node (tests/interop/pulsar-flex; <c>npm ci</c> runs once, when its
/// node_modules is missing or older than its package-lock.json). pulsar-flex has no compression and no TLS, so these
/// entries are uncompressed.
/// </summary>
public sealed class PulsarFlexInteropTests
{
    [NodeFact]
    public async Task Messages_produced_by_pulsar_flex_into_the_fake_broker_are_read_by_the_reader()
    {
        var ct = Deadline(120);
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("flex-produce");

        var output = await PulsarFlex.RunAsync(["produce", $"127.0.0.1:{broker.Port}", TopicOf(channel)], ct);
        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(PulsarSourceChannels.Earliest(channel)), ct);
        var read = await ReadAsync(reader, 6, ct);

        Assert.Contains("produced", output);
        var entries = broker.Topic(TopicOf(channel)).Entries;
        Assert.Equal(4, entries.Count);
        Assert.Equal(
            ["flex-single-0", "flex-single-1", "flex-single-2", "flex-batch-0", "flex-batch-1", "flex-batch-2"],
            read.Select(m => Text(m.Payload)));
        Assert.Equal(["Insert", "Insert", "Insert", "Delete", "Delete", "Delete"], read.Select(m => m.Properties["msg_type"]));
        Assert.Equal(["0", "1", "2", "0", "1", "2"], read.Select(m => m.Properties["index"]));
        Assert.Equal([Id(entries[0]), Id(entries[1]), Id(entries[2]), Id(entries[3], 0), Id(entries[3], 1), Id(entries[3], 2)], read.Select(m => m.Id));
    }

    [NodeFact]
    public async Task Messages_produced_by_the_test_producer_are_consumed_by_pulsar_flex()
    {
        var ct = Deadline(120);
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("flex-consume");
        var topic = TopicOf(channel);

        var consuming = PulsarFlex.StartAsync(["consume", $"127.0.0.1:{broker.Port}", topic, "4"], ct);
        await Until(() => broker.Subscribes.Count > 0 && broker.Topic(topic).ConsumerCount > 0, ct);
        await using (var producer = await PulsarTestProducer.ConnectAsync(broker.ServiceUrl, topic, cancellationToken: ct))
        {
            await producer.SendAsync([Message("batch-of-one-0", ("msg_type", "TimeTick")), Message("batch-of-one-1", ("msg_type", "Insert"))],
                new PulsarEntryFormat.BatchOfOne(Infrastructure.Source.Pulsar.Protos.CompressionType.None), ct);
            await producer.SendAsync([Message("plain-0", ("msg_type", "Delete")), Message("plain-1", ("vchannel", "v0"))], PulsarEntryFormat.Plain(), ct);
        }

        var lines = (await consuming).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var received = lines.SkipWhile(l => l != "subscribed").Skip(1).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.Equal(["batch-of-one-0", "batch-of-one-1", "plain-0", "plain-1"], received.Select(r => r.GetProperty("payload").GetString()));
        Assert.Equal(["TimeTick", "Insert", "Delete"], received.Take(3).Select(r => r.GetProperty("properties").GetProperty("msg_type").GetString()));
        Assert.Equal("v0", received[3].GetProperty("properties").GetProperty("vchannel").GetString());
        Assert.Equal(broker.Topic(topic).Entries.Select(e => $"{e.LedgerId}:{e.EntryId}"),
            received.Select(r => $"{r.GetProperty("ledgerId").GetString()}:{r.GetProperty("entryId").GetString()}"));
    }
}

/// <summary>A test that needs node; it is skipped, saying so, only when node is not on PATH.</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (PulsarFlex.Node is null) Skip = "node is not on PATH: the pulsar-flex interop tests need node and npm";
    }
}

/// <summary>Runs tests/interop/pulsar-flex/interop.js with node, after an idempotent <c>npm ci</c>.</summary>
internal static class PulsarFlex
{
    private static readonly SemaphoreSlim Install = new(1, 1);

    public static string? Node { get; } = Find("node");

    private static string Directory => RepositoryRoot.File_(Path.Combine("tests", "interop", "pulsar-flex"));

    public static async Task<string> RunAsync(string[] arguments, CancellationToken ct) => await StartAsync(arguments, ct);

    public static async Task<string> StartAsync(string[] arguments, CancellationToken ct)
    {
        await EnsureInstalledAsync(ct);
        return await Run(Node!, ["interop.js", .. arguments], ct);
    }

    private static async Task EnsureInstalledAsync(CancellationToken ct)
    {
        await Install.WaitAsync(ct);
        try
        {
            var lockFile = Path.Combine(Directory, "package-lock.json");
            var stamp = Path.Combine(Directory, "node_modules", ".cdc-installed-lock");
            var lockHash = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(lockFile, ct)));
            if (File.Exists(stamp) && await File.ReadAllTextAsync(stamp, ct) == lockHash) return;
            var npm = Find("npm") ?? throw new InvalidOperationException("node is on PATH but npm is not");
            await Run(npm, ["ci", "--no-audit", "--no-fund"], ct);
            await File.WriteAllTextAsync(stamp, lockHash, ct);
        }
        finally
        {
            Install.Release();
        }
    }

    private static async Task<string> Run(string program, string[] arguments, CancellationToken ct)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return process.ExitCode == 0
            ? await stdout
            : throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}{await stdout}");
    }

    private static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(dir => Path.Combine(dir, program))
        .FirstOrDefault(File.Exists);
}
