using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;

namespace Cdc.Application.Tests.Target;

/// <summary>Delete expressions by primary key, written as Milvus' expression grammar reads them.</summary>
public sealed class PrimaryKeyExpressionTests
{
    [Fact]
    public void Int64_keys_are_numbers()
    {
        Assert.Equal("pk in [1,-2,9223372036854775807]", PrimaryKeyExpression.In("pk", new Int64PrimaryKeys([1, -2, long.MaxValue])));
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData("C:\\path\\", "\"C:\\\\path\\\\\"")]
    [InlineData("\\\"", "\"\\\\\\\"\"")]
    [InlineData("two\nlines\r", "\"two\\nlines\\r\"")]
    [InlineData("tab\tbell\a", "\"tab\\tbell\\u0007\"")]
    [InlineData("it's ünïcode ✓", "\"it's ünïcode ✓\"")]
    [InlineData("", "\"\"")]
    public void String_keys_are_double_quoted_with_quotes_backslashes_and_controls_escaped(string key, string literal)
    {
        Assert.Equal(literal, PrimaryKeyExpression.Literal(key));
        Assert.Equal($"id in [{literal}]", PrimaryKeyExpression.In("id", new StringPrimaryKeys([key])));
    }

    [Fact]
    public void Many_keys_are_split_into_expressions_within_the_length_keeping_their_order()
    {
        var keys = Enumerable.Range(1000, 500).Select(i => (long)i).ToList();

        var batches = PrimaryKeyExpression.Batches("pk", new Int64PrimaryKeys(keys), 200);

        Assert.True(batches.Count > 1);
        Assert.All(batches, b => Assert.InRange(b.Length, 1, 200));
        Assert.Equal(keys, batches.SelectMany(b => b["pk in [".Length..^1].Split(',').Select(long.Parse)));
    }
}
