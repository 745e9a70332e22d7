using System.Globalization;
using System.Text;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// The filter expressions the fake target understands, read as Milvus' expression grammar writes them
/// (milvus-io/milvus internal/parser/planparserv2/Plan.g4): a field compared with a list of keys, <c>field in [k, ...]</c>,
/// or with one key, <c>field == k</c>. Keys are integers (decimal, optionally negative) or string literals in double or
/// single quotes with the grammar's escapes (<c>\" \' \\ \n \r \t \a \b \f \v \?</c>, <c>\xHH</c>, octal <c>\NNN</c>,
/// <c>\uXXXX</c>, <c>\UXXXXXXXX</c>); a raw line break inside a literal is not allowed. Anything else is an error, as
/// Milvus answers an expression it cannot parse; Milvus itself understands far more, which the fake does not need.
/// </summary>
internal sealed record FakeKeyExpression(string Field, IReadOnlyList<object> Keys)
{
    /// <exception cref="FormatException">The expression is not one the fake understands.</exception>
    public static FakeKeyExpression Parse(string expression)
    {
        var reader = new Reader(expression);
        reader.SkipSpaces();
        var field = reader.Identifier();
        reader.SkipSpaces();
        List<object> keys = [];
        if (reader.TryWord("in"))
        {
            reader.SkipSpaces();
            reader.Expect('[');
            reader.SkipSpaces();
            if (!reader.TryChar(']'))
            {
                while (true)
                {
                    reader.SkipSpaces();
                    keys.Add(reader.Literal());
                    reader.SkipSpaces();
                    if (reader.TryChar(']')) break;
                    reader.Expect(',');
                }
            }
        }
        else if (reader.TryWord("=="))
        {
            reader.SkipSpaces();
            keys.Add(reader.Literal());
        }
        else
        {
            throw reader.Error("expected 'in' or '=='");
        }

        reader.SkipSpaces();
        if (!reader.AtEnd) throw reader.Error("unexpected text after the expression");
        if (keys.Select(k => k.GetType()).Distinct().Count() > 1) throw reader.Error("the keys mix numbers and strings");
        return new FakeKeyExpression(field, keys);
    }

    private sealed class Reader(string text)
    {
        private int _at;

        public bool AtEnd => _at >= text.Length;

        public FormatException Error(string problem) =>
            new($"cannot parse expression: {text}, error: {problem} at position {_at}");

        public void SkipSpaces()
        {
            while (!AtEnd && char.IsWhiteSpace(text[_at])) _at++;
        }

        public bool TryChar(char c)
        {
            if (AtEnd || text[_at] != c) return false;
            _at++;
            return true;
        }

        public void Expect(char c)
        {
            if (!TryChar(c)) throw Error($"expected '{c}'");
        }

        public bool TryWord(string word)
        {
            if (string.CompareOrdinal(text, _at, word, 0, word.Length) != 0) return false;
            var end = _at + word.Length;
            // "in" must end there ("inner" is an identifier); "==" may touch what follows.
            if (char.IsLetter(word[0]) && end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_')) return false;
            _at = end;
            return true;
        }

        /// <summary>Nondigit (Nondigit | Digit)*, Nondigit being [a-zA-Z_].</summary>
        public string Identifier()
        {
            var start = _at;
            if (AtEnd || !(char.IsAsciiLetter(text[_at]) || text[_at] == '_')) throw Error("expected a field name");
            while (!AtEnd && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_')) _at++;
            return text[start.._at];
        }

        public object Literal()
        {
            if (AtEnd) throw Error("expected a value");
            return text[_at] is '"' or '\'' ? StringLiteral() : Integer();
        }

        private long Integer()
        {
            var start = _at;
            if (text[_at] == '-') _at++;
            while (!AtEnd && char.IsAsciiDigit(text[_at])) _at++;
            return long.TryParse(text.AsSpan(start, _at - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Error("expected an integer or a string literal");
        }

        private string StringLiteral()
        {
            var quote = text[_at++];
            var value = new StringBuilder();
            while (true)
            {
                if (AtEnd) throw Error("unterminated string literal");
                var c = text[_at++];
                if (c == quote) return value.ToString();
                if (c is '\r' or '\n') throw Error("a line break in a string literal");
                if (c != '\\')
                {
                    value.Append(c);
                    continue;
                }

                if (AtEnd) throw Error("unterminated escape");
                var e = text[_at++];
                switch (e)
                {
                    case '"' or '\'' or '\\' or '?': value.Append(e); break;
                    case 'n': value.Append('\n'); break;
                    case 'r': value.Append('\r'); break;
                    case 't': value.Append('\t'); break;
                    case 'a': value.Append('\a'); break;
                    case 'b': value.Append('\b'); break;
                    case 'f': value.Append('\f'); break;
                    case 'v': value.Append('\v'); break;
                    case 'x': value.Append((char)Hex(2)); break;
                    case 'u': value.Append(CodePoint(Hex(4))); break;
                    case 'U': value.Append(CodePoint(Hex(8))); break;
                    case >= '0' and <= '7':
                        var octal = e - '0';
                        for (var i = 0; i < 2 && !AtEnd && text[_at] is >= '0' and <= '7'; i++) octal = (octal * 8) + (text[_at++] - '0');
                        value.Append((char)octal);
                        break;
                    default: throw Error($"unknown escape \\{e}");
                }
            }
        }

        private string CodePoint(int value) =>
            value is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF) ? char.ConvertFromUtf32(value) : throw Error($"\\u{value:X} is not a character");

        private int Hex(int digits)
        {
            if (_at + digits > text.Length
                || !int.TryParse(text.AsSpan(_at, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
                throw Error($"expected {digits} hex digits");
            _at += digits;
            return value;
        }
    }
}
