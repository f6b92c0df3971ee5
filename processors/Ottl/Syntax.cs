namespace OtelAi.Processors.Ottl;

/// <summary>Syntax tree of one OTTL statement or condition. <c>Pos</c> is the 0-based offset in the source text.</summary>
internal abstract record Node(int Pos);

internal sealed record LiteralNode(int Pos, OttlValue Value) : Node(Pos);

/// <summary>An index step <c>[key]</c>: a string or int literal, or any value expression (e.g. a path).</summary>
internal sealed record KeyNode(int Pos, Node Key) : Node(Pos);

/// <summary>A path such as <c>resource.attributes["k"][0]</c>: dotted names plus index steps.</summary>
internal sealed record PathNode(int Pos, IReadOnlyList<string> Names, IReadOnlyList<KeyNode> Keys) : Node(Pos)
{
    public string Dotted => string.Join('.', Names);
}

internal sealed record EnumNode(int Pos, string Name) : Node(Pos);

internal sealed record ArgNode(int Pos, string? Name, Node Value) : Node(Pos);

/// <summary>An editor (lower-case) or converter (upper-case) invocation; converters may be indexed.</summary>
internal sealed record CallNode(int Pos, string Name, IReadOnlyList<ArgNode> Args, IReadOnlyList<KeyNode> Keys) : Node(Pos)
{
    public bool IsConverter => char.IsUpper(Name[0]);
}

internal sealed record ListNode(int Pos, IReadOnlyList<Node> Items) : Node(Pos);

internal sealed record MapNode(int Pos, IReadOnlyList<(string Key, Node Value)> Entries) : Node(Pos);

internal sealed record MathNode(int Pos, char Op, Node Left, Node Right) : Node(Pos);

internal enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }

internal sealed record CompareNode(int Pos, CompareOp Op, Node Left, Node Right) : Node(Pos);

internal sealed record AndNode(int Pos, Node Left, Node Right) : Node(Pos);

internal sealed record OrNode(int Pos, Node Left, Node Right) : Node(Pos);

internal sealed record NotNode(int Pos, Node Operand) : Node(Pos);

/// <summary>A whole statement: one editor invocation and an optional <c>where</c> condition.</summary>
internal sealed record StatementNode(CallNode Editor, Node? Condition);
