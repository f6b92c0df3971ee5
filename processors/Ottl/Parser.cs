using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace OtelAi.Processors.Ottl;

internal enum TokenKind { End, Ident, String, Int, Float, Bytes, Punct }

internal readonly record struct Token(TokenKind Kind, string Text, int Pos, object? Value = null);

/// <summary>
/// Recursive-descent parser for OTTL statements (<c>editor(args) where condition</c>) and bare conditions.
/// Precedence, lowest first: or, and, not, comparison, + -, * /, primary.
/// </summary>
internal sealed class Parser
{
    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _next;

    private Parser(string text)
    {
        _text = text;
        _tokens = Lex(text);
    }

    public static StatementNode ParseStatement(string text)
    {
        var parser = new Parser(text);
        var start = parser.Peek;
        if (start.Kind != TokenKind.Ident || !char.IsLower(start.Text[0]) || parser.PeekAt(1).Text != "(" || IsKeyword(start.Text))
            throw parser.Error(start, "a statement must start with an editor invocation such as set(...)");
        var editor = (CallNode)parser.ParsePrimary();
        Node? condition = null;
        if (parser.Peek.Kind == TokenKind.Ident && parser.Peek.Text == "where")
        {
            parser._next++;
            condition = parser.ParseOr();
        }
        parser.ExpectEnd();
        return new StatementNode(editor, condition);
    }

    public static Node ParseCondition(string text)
    {
        var parser = new Parser(text);
        if (parser.Peek.Kind == TokenKind.End) throw parser.Error(parser.Peek, "empty condition");
        var node = parser.ParseOr();
        parser.ExpectEnd();
        return node;
    }

    private Token Peek => _tokens[_next];

    private Token PeekAt(int ahead) => _tokens[Math.Min(_next + ahead, _tokens.Count - 1)];

    private Token Take() => _tokens[_next++];

    private bool TryTake(string punct)
    {
        if (Peek.Kind != TokenKind.Punct || Peek.Text != punct) return false;
        _next++;
        return true;
    }

    private bool TryTakeKeyword(string keyword)
    {
        if (Peek.Kind != TokenKind.Ident || Peek.Text != keyword) return false;
        _next++;
        return true;
    }

    private Token Expect(string punct)
    {
        if (Peek.Kind == TokenKind.Punct && Peek.Text == punct) return Take();
        throw Error(Peek, $"expected '{punct}' but found {Describe(Peek)}");
    }

    private void ExpectEnd()
    {
        if (Peek.Kind != TokenKind.End) throw Error(Peek, $"unexpected {Describe(Peek)}");
    }

    private OttlCompileException Error(Token at, string problem) => new(_text, at.Pos, problem);

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.End => "end of statement",
        TokenKind.String => "string " + token.Text,
        _ => $"'{token.Text}'",
    };

    private static bool IsKeyword(string word) => word is "where" or "and" or "or" or "not" or "true" or "false" or "nil";

    private Node ParseOr()
    {
        var left = ParseAnd();
        while (Peek.Kind == TokenKind.Ident && Peek.Text == "or")
        {
            var op = Take();
            left = new OrNode(op.Pos, left, ParseAnd());
        }
        return left;
    }

    private Node ParseAnd()
    {
        var left = ParseNot();
        while (Peek.Kind == TokenKind.Ident && Peek.Text == "and")
        {
            var op = Take();
            left = new AndNode(op.Pos, left, ParseNot());
        }
        return left;
    }

    private Node ParseNot()
    {
        if (Peek.Kind == TokenKind.Ident && Peek.Text == "not")
        {
            var op = Take();
            return new NotNode(op.Pos, ParseNot());
        }
        return ParseComparison();
    }

    private Node ParseComparison()
    {
        var left = ParseAdditive();
        if (Peek.Kind != TokenKind.Punct) return left;
        CompareOp? op = Peek.Text switch
        {
            "==" => CompareOp.Eq,
            "!=" => CompareOp.Ne,
            "<" => CompareOp.Lt,
            "<=" => CompareOp.Le,
            ">" => CompareOp.Gt,
            ">=" => CompareOp.Ge,
            _ => null,
        };
        if (op is null) return left;
        var token = Take();
        return new CompareNode(token.Pos, op.Value, left, ParseAdditive());
    }

    private Node ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Peek.Kind == TokenKind.Punct && Peek.Text is "+" or "-")
        {
            var op = Take();
            left = new MathNode(op.Pos, op.Text[0], left, ParseMultiplicative());
        }
        return left;
    }

    private Node ParseMultiplicative()
    {
        var left = ParsePrimary();
        while (Peek.Kind == TokenKind.Punct && Peek.Text is "*" or "/")
        {
            var op = Take();
            left = new MathNode(op.Pos, op.Text[0], left, ParsePrimary());
        }
        return left;
    }

    private Node ParsePrimary()
    {
        var token = Peek;
        switch (token.Kind)
        {
            case TokenKind.String:
                _next++;
                return new LiteralNode(token.Pos, OttlValue.Of((string)token.Value!));
            case TokenKind.Int:
                _next++;
                return new LiteralNode(token.Pos, OttlValue.Of((long)token.Value!));
            case TokenKind.Float:
                _next++;
                return new LiteralNode(token.Pos, OttlValue.Of((double)token.Value!));
            case TokenKind.Bytes:
                _next++;
                return new LiteralNode(token.Pos, OttlValue.Of((ByteString)token.Value!));
            case TokenKind.Punct when token.Text == "(":
            {
                _next++;
                var inner = ParseOr();
                Expect(")");
                return inner;
            }
            case TokenKind.Punct when token.Text == "[":
                return ParseList();
            case TokenKind.Punct when token.Text == "{":
                return ParseMap();
            case TokenKind.Ident:
                return ParseIdentifier();
            case TokenKind.End:
                throw Error(token, "unexpected end of statement: a value is missing");
            default:
                throw Error(token, $"unexpected {Describe(token)}");
        }
    }

    private Node ParseIdentifier()
    {
        var token = Take();
        switch (token.Text)
        {
            case "true": return new LiteralNode(token.Pos, OttlValue.True);
            case "false": return new LiteralNode(token.Pos, OttlValue.False);
            case "nil": return new LiteralNode(token.Pos, OttlValue.Nil);
            case "where" or "and" or "or" or "not":
                throw Error(token, $"unexpected keyword '{token.Text}'");
        }

        if (TryTake("("))
        {
            var args = new List<ArgNode>();
            if (!TryTake(")"))
            {
                do args.Add(ParseArgument());
                while (TryTake(","));
                Expect(")");
            }
            return new CallNode(token.Pos, token.Text, args, ParseKeys());
        }

        if (char.IsUpper(token.Text[0]))
        {
            if (Peek.Kind == TokenKind.Punct && Peek.Text is "." or "[")
                throw Error(token, $"'{token.Text}' is not a path: paths start with a lower-case name, converters need '(...)'");
            return new EnumNode(token.Pos, token.Text);
        }

        var names = new List<string> { token.Text };
        while (TryTake("."))
        {
            var part = Take();
            if (part.Kind != TokenKind.Ident) throw Error(part, $"expected a path segment after '.' but found {Describe(part)}");
            names.Add(part.Text);
        }
        return new PathNode(token.Pos, names, ParseKeys());
    }

    private ArgNode ParseArgument()
    {
        var start = Peek;
        if (start.Kind == TokenKind.Ident && PeekAt(1).Kind == TokenKind.Punct && PeekAt(1).Text == "=")
        {
            _next += 2;
            return new ArgNode(start.Pos, start.Text, ParseOr());
        }
        return new ArgNode(start.Pos, null, ParseOr());
    }

    private List<KeyNode> ParseKeys()
    {
        var keys = new List<KeyNode>();
        while (Peek.Kind == TokenKind.Punct && Peek.Text == "[")
        {
            var open = Take();
            var key = ParseAdditive();
            Expect("]");
            keys.Add(new KeyNode(open.Pos, key));
        }
        return keys;
    }

    private Node ParseList()
    {
        var open = Take();
        var items = new List<Node>();
        if (!TryTake("]"))
        {
            do items.Add(ParseOr());
            while (TryTake(","));
            Expect("]");
        }
        return new ListNode(open.Pos, items);
    }

    private Node ParseMap()
    {
        var open = Take();
        var entries = new List<(string, Node)>();
        if (!TryTake("}"))
        {
            do
            {
                var key = Take();
                if (key.Kind != TokenKind.String) throw Error(key, $"map keys must be strings, found {Describe(key)}");
                Expect(":");
                entries.Add(((string)key.Value!, ParseOr()));
            }
            while (TryTake(","));
            Expect("}");
        }
        return new MapNode(open.Pos, entries);
    }

    private static readonly string[] TwoCharPuncts = ["==", "!=", "<=", ">="];

    private static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", text.Length));
                return tokens;
            }

            var start = i;
            var c = text[i];
            if (c == '"')
            {
                tokens.Add(LexString(text, ref i));
                continue;
            }
            if (c == '0' && i + 1 < text.Length && text[i + 1] is 'x' or 'X')
            {
                i += 2;
                while (i < text.Length && char.IsAsciiHexDigit(text[i])) i++;
                var hex = text[(start + 2)..i];
                if (hex.Length % 2 != 0) throw new OttlCompileException(text, start, "a bytes literal needs an even number of hex digits");
                tokens.Add(new Token(TokenKind.Bytes, text[start..i], start, ByteString.CopyFrom(Convert.FromHexString(hex))));
                continue;
            }
            var negativeNumber = c == '-' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]) && !EndsValue(tokens);
            if (char.IsAsciiDigit(c) || negativeNumber)
            {
                i++;
                while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                var isFloat = false;
                if (i < text.Length && text[i] == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]))
                {
                    isFloat = true;
                    i++;
                    while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                }
                var literal = text[start..i];
                if (isFloat)
                    tokens.Add(new Token(TokenKind.Float, literal, start, double.Parse(literal, CultureInfo.InvariantCulture)));
                else if (long.TryParse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                    tokens.Add(new Token(TokenKind.Int, literal, start, n));
                else
                    throw new OttlCompileException(text, start, $"integer {literal} is out of the int64 range");
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Ident, text[start..i], start));
                continue;
            }
            var two = i + 1 < text.Length ? text.Substring(i, 2) : "";
            if (Array.IndexOf(TwoCharPuncts, two) >= 0)
            {
                tokens.Add(new Token(TokenKind.Punct, two, start));
                i += 2;
                continue;
            }
            if ("()[]{},.:=<>+-*/".Contains(c))
            {
                tokens.Add(new Token(TokenKind.Punct, c.ToString(), start));
                i++;
                continue;
            }
            throw new OttlCompileException(text, start, $"unexpected character '{c}'");
        }
    }

    // A '-' directly after a value is subtraction; elsewhere it starts a negative number.
    private static bool EndsValue(List<Token> tokens) => tokens.Count > 0 && tokens[^1] switch
    {
        { Kind: TokenKind.Ident or TokenKind.Int or TokenKind.Float or TokenKind.String or TokenKind.Bytes } => true,
        { Kind: TokenKind.Punct, Text: ")" or "]" or "}" } => true,
        _ => false,
    };

    private static Token LexString(string text, ref int i)
    {
        var start = i++;
        var value = new StringBuilder();
        while (true)
        {
            if (i >= text.Length) throw new OttlCompileException(text, start, "unterminated string literal");
            var c = text[i++];
            if (c == '"') break;
            if (c != '\\' || i >= text.Length)
            {
                value.Append(c);
                continue;
            }
            var escaped = text[i++];
            switch (escaped)
            {
                case '"': value.Append('"'); break;
                case '\\': value.Append('\\'); break;
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                // Unknown escapes stay as written, so regexes like "\d" survive.
                default: value.Append('\\').Append(escaped); break;
            }
        }
        return new Token(TokenKind.String, text[start..i], start, value.ToString());
    }
}
