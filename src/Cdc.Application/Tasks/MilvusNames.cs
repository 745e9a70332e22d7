using FluentValidation;

namespace Cdc.Application.Tasks;

/// <summary>
/// Milvus's naming rules for the database and collection names a request carries, with Milvus's messages
/// (milvus-io/milvus internal/proxy/util.go: <c>validateCollectionNameOrAlias</c>, <c>ValidateDatabaseName</c>): the
/// first character is an ASCII letter or an underscore, the others ASCII letters, digits or underscores. (Collection
/// names are checked after trimming surrounding white space, as Milvus does.) <c>*</c>, "every database" or "every
/// collection", is accepted where the request allows it. The length limit is the server's <c>maxNameLength</c>,
/// checked by the requests with the reference CDC's message.
/// </summary>
public static class MilvusNames
{
    public const string All = "*";

    /// <summary>Why <paramref name="name"/> is not a valid collection name, or null when it is (or is <c>*</c>).</summary>
    public static string? CollectionNameProblem(string name)
    {
        if (name == All) return null;
        var trimmed = name.Trim();
        if (trimmed.Length == 0) return "collection name should not be empty";
        var invalid = $"Invalid collection name: {trimmed}.";
        if (!IsFirst(trimmed[0])) return $"{invalid} the first character of a collection name must be an underscore or letter";
        return trimmed.All(IsNext) ? null : $"{invalid} collection name can only contain numbers, letters and underscores";
    }

    /// <summary>Why <paramref name="name"/> is not a valid database name, or null when it is (or is <c>*</c>).</summary>
    public static string? DatabaseNameProblem(string name)
    {
        if (name == All) return null;
        if (name.Length == 0) return "database name couldn't be empty";
        var invalid = $"invalid database name[database={name}]";
        if (!IsFirst(name[0])) return $"the first character of a database name must be an underscore or letter: {invalid}";
        return name.All(IsNext) ? null : $"database name can only contain numbers, letters and underscores: {invalid}";
    }

    /// <summary>The collection name rule on a FluentValidation rule chain.</summary>
    public static IRuleBuilderOptions<T, string> MilvusCollectionName<T>(this IRuleBuilder<T, string> rule) =>
        rule.Must(n => CollectionNameProblem(n) is null).WithMessage((_, n) => CollectionNameProblem(n)!);

    /// <summary>The database name rule on a FluentValidation rule chain.</summary>
    public static IRuleBuilderOptions<T, string> MilvusDatabaseName<T>(this IRuleBuilder<T, string> rule) =>
        rule.Must(n => DatabaseNameProblem(n) is null).WithMessage((_, n) => DatabaseNameProblem(n)!);

    private static bool IsFirst(char c) => c == '_' || char.IsAsciiLetter(c);

    private static bool IsNext(char c) => c == '_' || char.IsAsciiLetterOrDigit(c);
}
