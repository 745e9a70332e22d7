using System.Text.RegularExpressions;

namespace Cdc.Application.Replication.Routing;

/// <summary>
/// How a source collection's shards map to the target's (as zilliztech/milvus-cdc core/reader/replicate_channel_manager.go pairs them): both vchannel lists sorted
/// lexicographically and paired by index; each pair also fixes the physical channel pair (the text before the last
/// '_'). The shard counts must be equal.
/// </summary>
public sealed partial class ChannelMapping
{
    private readonly Dictionary<string, string> _virtual;

    private ChannelMapping(Dictionary<string, string> pairs) => _virtual = pairs;

    public static ChannelMapping Pair(IEnumerable<string> sourceVirtualChannels, IEnumerable<string> targetVirtualChannels)
    {
        var source = sourceVirtualChannels.Order(StringComparer.Ordinal).ToList();
        var target = targetVirtualChannels.Order(StringComparer.Ordinal).ToList();
        if (source.Count != target.Count)
            throw new InvalidOperationException($"the lengths of source and target channels are not equal ({source.Count} vs {target.Count})");
        foreach (var name in source.Concat(target))
            if (!IsVirtual(name)) throw new ArgumentException($"'{name}' is not a virtual channel name (<pchannel>_<collection id>v<shard>)");
        return new ChannelMapping(source.Zip(target).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal));
    }

    /// <summary>The target vchannel of a source vchannel.</summary>
    public string TargetOf(string sourceVirtualChannel) =>
        _virtual.TryGetValue(sourceVirtualChannel, out var t) ? t : throw new KeyNotFoundException($"'{sourceVirtualChannel}' is not a shard of this collection");

    /// <summary>The target pchannel that receives what the source vchannel carries.</summary>
    public string TargetPhysicalOf(string sourceVirtualChannel) => ToPhysical(TargetOf(sourceVirtualChannel));

    public IReadOnlyDictionary<string, string> Pairs => _virtual;

    public static bool IsVirtual(string channel) => VirtualPattern().IsMatch(channel);

    public static string ToPhysical(string virtualChannel) =>
        VirtualPattern().Match(virtualChannel) is { Success: true } m ? m.Groups[1].Value
        : throw new ArgumentException($"'{virtualChannel}' is not a virtual channel name");

    /// <summary>The collection id a virtual channel name carries (<c>&lt;pchannel&gt;_&lt;collection id&gt;v&lt;shard&gt;</c>).</summary>
    public static long CollectionIdOf(string virtualChannel) =>
        VirtualPattern().Match(virtualChannel) is { Success: true } m && long.TryParse(m.Groups[2].Value, out var id) ? id
        : throw new ArgumentException($"'{virtualChannel}' is not a virtual channel name");

    [GeneratedRegex(@"^(.*)_(\d+)v(\d+)$")]
    private static partial Regex VirtualPattern();
}
