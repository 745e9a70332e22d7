using System.Globalization;
using System.Text;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// Delete expressions by primary key in Milvus' expression grammar (milvus-io/milvus
/// internal/parser/planparserv2/Plan.g4): <c>pk in [1,2,3]</c> for int64 keys, <c>pk in ["a","b"]</c> for string keys.
/// A string key is a double-quoted literal whose <c>"</c> and <c>\</c> are escaped, and whose line breaks and other
/// control characters are written as escapes (a raw line break may not stand in a literal); the grammar's escapes are
/// those Go's strconv.Unquote reads back, which Milvus applies to a literal.
/// </summary>
public static class PrimaryKeyExpression
{
    /// <summary><c>field in [keys]</c>.</summary>
    public static string In(string field, PrimaryKeys keys) => Batches(field, keys, int.MaxValue).Single();

    /// <summary>
    /// <c>field in [keys]</c> for all the keys, in as few expressions as keep each within <paramref name="maxLength"/>
    /// characters (one key a batch at least), the keys in their order.
    /// </summary>
    public static IReadOnlyList<string> Batches(string field, PrimaryKeys keys, int maxLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(field);
        ArgumentNullException.ThrowIfNull(keys);
        var literals = keys switch
        {
            Int64PrimaryKeys ints => ints.Keys.Select(k => k.ToString(CultureInfo.InvariantCulture)),
            StringPrimaryKeys strings => strings.Keys.Select(Literal),
            _ => throw new ArgumentException($"keys of kind {keys.GetType().Name} cannot be written in an expression", nameof(keys)),
        };

        var batches = new List<string>();
        var current = new StringBuilder();
        foreach (var literal in literals)
        {
            if (current.Length > 0 && current.Length + 1 + literal.Length + 1 > maxLength)
            {
                batches.Add(current.Append(']').ToString());
                current.Clear();
            }

            current.Append(current.Length == 0 ? $"{field} in [" : ",").Append(literal);
        }

        batches.Add(current.Length == 0 ? $"{field} in []" : current.Append(']').ToString());
        return batches;
    }

    /// <summary>A string as a double-quoted literal of the grammar.</summary>
    public static string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var literal = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': literal.Append("\\\""); break;
                case '\\': literal.Append("\\\\"); break;
                case '\n': literal.Append("\\n"); break;
                case '\r': literal.Append("\\r"); break;
                case '\t': literal.Append("\\t"); break;
                case < ' ' or '\u007f': literal.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: literal.Append(c); break;
            }
        }

        return literal.Append('"').ToString();
    }
}
