using Cdc.Application.Replication.Routing;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Tasks;
using FluentValidation;

namespace Cdc.Application.Tasks.CreatingTask;

/// <summary>
/// The create request's rules for what a task replicates and where it starts: <c>collection_infos</c> or
/// <c>db_collections</c> (the reference's messages where it has them), <c>name_mapping</c> and <c>start_from</c>. Each
/// failure names its field, down to the entry (<c>db_collections.sales[1].name</c>, <c>name_mapping[0].target_db</c>).
/// </summary>
public sealed class SelectionRules : AbstractValidator<CreateTask>
{
    private readonly CdcLimits _limits;
    private readonly ISourcePositionCodec? _positions;
    private readonly TimeProvider _clock;

    public SelectionRules(CdcLimits limits, ISourcePositionCodec? positions, TimeProvider clock)
    {
        _limits = limits;
        _positions = positions;
        _clock = clock;
        ClassLevelCascadeMode = CascadeMode.Stop;
        RuleLevelCascadeMode = CascadeMode.Stop;

        RuleFor(r => r).Must(r => r.CollectionInfos is not null || r.DbCollections is not null)
            .OverridePropertyName("collection_infos").WithMessage("the collection info is empty");
        RuleFor(r => r).Must(r => r.CollectionInfos is null || r.DbCollections is null)
            .OverridePropertyName("db_collections").WithMessage("the collection info and db collection info should be only one");
        RuleFor(r => r).Custom((r, context) =>
        {
            if (r.CollectionInfos is { } infos) CheckEntries(infos, "collection_infos", context);
            foreach (var (db, entries) in r.DbCollections ?? new Dictionary<string, IReadOnlyList<CollectionInfo>>())
            {
                if (!CheckName(db, "db_collections", "the db name is empty", $"the db name length exceeds {_limits.MaxNameLength} characters, {db}", context, MilvusNames.DatabaseNameProblem)) return;
                CheckEntries(entries, $"db_collections.{db}", context);
            }
            if (r.DbCollections is { Count: 0 }) context.AddFailure("db_collections", "the collection info is empty");
        });
        RuleFor(r => r).Custom((r, context) => CheckNameMapping(r, context)).When(r => r.NameMapping is { Count: > 0 });
        RuleFor(r => r.StartFrom).Custom((text, context) =>
        {
            if (text is null) return;
            if (ReplicationStart.Parse(text) is not { } start)
                context.AddFailure("start_from", $"'{text}' is not \"latest\", \"earliest\" or a time like 2026-12-04T10:00:00Z");
            else if (start.Time > _clock.GetUtcNow())
                context.AddFailure("start_from", $"the time {start} is in the future");
        });
    }

    /// <summary>The entries of one list: names, the <c>*</c> rule, duplicates and the requested positions.</summary>
    private void CheckEntries(IReadOnlyList<CollectionInfo> entries, string field, ValidationContext<CreateTask> context)
    {
        if (entries.Count == 0)
        {
            context.AddFailure(field, "empty collection info");
            return;
        }

        if (entries.Count > 1 && entries.Any(e => e.Name == CollectionInfo.All))
        {
            context.AddFailure(field,
                $"make sure the only one collection if you want to use the '*' collection param, current param: [{string.Join(" ", entries.Select(e => e.Name))}]");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var at = $"{field}[{i}]";
            if (!CheckName(entry.Name, $"{at}.name", "there is a collection name that is empty. ",
                    $"there are some collection names whose length exceeds {_limits.MaxNameLength} characters, [{entry.Name}]", context,
                    MilvusNames.CollectionNameProblem))
                return;
            if (!seen.Add(entry.Name))
            {
                context.AddFailure($"{at}.name", $"the collection {entry.Name} is listed twice");
                return;
            }

            if (entry.Positions is not { Count: > 0 } positions) continue;
            if (entry.Name == CollectionInfo.All)
            {
                context.AddFailure($"{at}.positions", "the collection name is `*`, the positions should be empty");
                return;
            }

            foreach (var (vchannel, position) in positions)
            {
                if (!ChannelMapping.IsVirtual(vchannel))
                {
                    context.AddFailure($"{at}.positions", $"the position channel name is not virtual channel, {vchannel}");
                    return;
                }
                if (_positions is null) continue;
                try
                {
                    _positions.Decode(position);
                }
                catch (FormatException ex)
                {
                    context.AddFailure($"{at}.positions.{vchannel}", $"fail to decode the position data: {ex.Message}");
                    return;
                }
            }

            if (positions.Keys.Select(ChannelMapping.CollectionIdOf).Distinct().Count() > 1)
            {
                context.AddFailure($"{at}.positions", "the channel position info should be in the same collection");
                return;
            }
        }
    }

    /// <summary>
    /// The mappings: names present and not too long, each source database once, every mapped collection (or database)
    /// in the selection, and no two source collections written to one target collection.
    /// </summary>
    private void CheckNameMapping(CreateTask r, ValidationContext<CreateTask> context)
    {
        var mappings = r.NameMapping!;
        var selection = new CollectionSelection(r.CollectionInfos, r.DbCollections);
        var sources = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < mappings.Count; i++)
        {
            var m = mappings[i];
            var at = $"name_mapping[{i}]";
            if (!CheckName(m.SourceDb, $"{at}.source_db", "the source database name is empty", TooLong("source database", m.SourceDb), context, NotAll(MilvusNames.DatabaseNameProblem))
                || !CheckName(m.TargetDb, $"{at}.target_db", "the target database name is empty", TooLong("target database", m.TargetDb), context, NotAll(MilvusNames.DatabaseNameProblem)))
                return;
            if (!sources.Add(m.SourceDb))
            {
                context.AddFailure($"{at}.source_db", $"the source database {m.SourceDb} is mapped twice");
                return;
            }

            foreach (var (source, target) in m.CollectionMapping ?? new Dictionary<string, string>())
            {
                if (!CheckName(source, $"{at}.collection_mapping", "a source collection name is empty", TooLong("source collection", source), context, NotAll(MilvusNames.CollectionNameProblem))
                    || !CheckName(target, $"{at}.collection_mapping.{source}", "the target collection name is empty", TooLong("target collection", target), context, NotAll(MilvusNames.CollectionNameProblem)))
                    return;
                if (!selection.Covers(m.SourceDb, source))
                {
                    context.AddFailure($"{at}.collection_mapping.{source}", "the collection name in the name mapping is not in the collection info, checkout it");
                    return;
                }
            }

            if (!selection.TouchesDatabase(m.SourceDb))
            {
                context.AddFailure($"{at}.source_db", "the collection name in the name mapping is not in the collection info, checkout it");
                return;
            }
        }

        // Where each known source collection (and each whole database) lands: two onto one target are refused.
        var names = new TargetNames(mappings);
        var landing = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (db, collection) in KnownSources(r, mappings))
        {
            var target = $"{names.DatabaseOf(db)}.{(collection == CollectionInfo.All ? "*" : names.CollectionOf(db, collection))}";
            var source = $"{CollectionSelection.DatabaseOrDefault(db)}.{collection}";
            if (landing.TryGetValue(target, out var other) && other != source)
            {
                context.AddFailure("name_mapping", $"{other} and {source} would both be written to {target} on the target");
                return;
            }
            landing[target] = source;
        }
    }

    /// <summary>The source databases and collections the request names, with <c>*</c> for a whole database.</summary>
    private static IEnumerable<(string Db, string Collection)> KnownSources(CreateTask r, IReadOnlyList<NameMapping> mappings)
    {
        foreach (var entry in r.CollectionInfos ?? [])
            if (entry.Name != CollectionInfo.All) yield return (CollectionSelection.DefaultDatabase, entry.Name);
        foreach (var (db, entries) in r.DbCollections ?? new Dictionary<string, IReadOnlyList<CollectionInfo>>())
        {
            if (db == CollectionInfo.All) continue;
            foreach (var entry in entries) yield return (db, entry.Name);
        }
        foreach (var m in mappings)
        {
            yield return (m.SourceDb, CollectionInfo.All);
            foreach (var source in m.CollectionMapping?.Keys ?? []) yield return (m.SourceDb, source);
        }
    }

    /// <summary>A Milvus naming rule that also refuses <c>*</c> (a mapping names one database or collection).</summary>
    private static Func<string, string?> NotAll(Func<string, string?> rule) =>
        name => name == MilvusNames.All ? "'*' cannot be mapped: name a database or collection" : rule(name);

    private string TooLong(string what, string name) => $"the {what} name {name} is longer than {_limits.MaxNameLength} characters";

    /// <summary>A name present, within <c>maxNameLength</c> and valid for Milvus (<see cref="MilvusNames"/>); false after a failure.</summary>
    private bool CheckName(string? name, string field, string empty, string tooLong, ValidationContext<CreateTask> context, Func<string, string?> milvusRule)
    {
        if (string.IsNullOrEmpty(name))
        {
            context.AddFailure(field, empty);
            return false;
        }
        if (name.Length > _limits.MaxNameLength)
        {
            context.AddFailure(field, tooLong);
            return false;
        }
        if (milvusRule(name) is { } problem)
        {
            context.AddFailure(field, problem);
            return false;
        }
        return true;
    }
}
