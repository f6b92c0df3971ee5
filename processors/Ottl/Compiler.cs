using Google.Protobuf.Collections;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>
/// Turns a syntax tree into delegates over <see cref="OttlContext"/> once, at config time. Every name (path,
/// function, enum) and literal argument is checked here, so run time only evaluates.
/// </summary>
internal sealed class Compiler
{
    private readonly string _text;

    public Compiler(string text, OttlContextKind context, bool requireContextPrefix)
    {
        _text = text;
        Context = context;
        RequireContextPrefix = requireContextPrefix;
    }

    public OttlContextKind Context { get; }

    /// <summary>True for statements whose context was inferred: every path must then start with a context name.</summary>
    public bool RequireContextPrefix { get; }

    public OttlCompileException Error(int position, string problem) => new(_text, position, problem);

    public OttlAction CompileEditor(CallNode call)
    {
        if (call.IsConverter)
            throw Error(call.Pos, $"a statement must invoke an editor (lower-case name), not the converter {call.Name}");
        if (call.Keys.Count > 0) throw Error(call.Keys[0].Pos, "an editor's result cannot be indexed");
        var function = OttlFunctions.Editor(call.Name) ?? throw Error(call.Pos, $"unknown editor \"{call.Name}\"");
        return function.CompileEditor!(BindArguments(function, call));
    }

    public OttlPredicate CompileCondition(Node node)
    {
        switch (node)
        {
            case LiteralNode { Value.Type: OttlType.Bool } literal:
                var constant = literal.Value.Bool;
                return _ => constant;
            case CompareNode compare:
                return CompileComparison(compare);
            case AndNode and:
            {
                var left = CompileCondition(and.Left);
                var right = CompileCondition(and.Right);
                return ctx => left(ctx) && right(ctx);
            }
            case OrNode or:
            {
                var left = CompileCondition(or.Left);
                var right = CompileCondition(or.Right);
                return ctx => left(ctx) || right(ctx);
            }
            case NotNode not:
            {
                var operand = CompileCondition(not.Operand);
                return ctx => !operand(ctx);
            }
            case LiteralNode or ListNode or MapNode or MathNode or EnumNode:
                throw Error(StartOf(node), "expected a boolean expression (a comparison, true/false or a converter returning a bool)");
            default:
            {
                var value = CompileValue(node);
                return ctx =>
                {
                    var result = value(ctx);
                    return result.Type == OttlType.Bool
                        ? result.Bool
                        : throw new OttlRuntimeException($"condition value must be a bool but got {result.TypeName} ({result})");
                };
            }
        }
    }

    // Binary nodes sit at their operator; errors about a whole expression point at its first character.
    private static int StartOf(Node node) => node switch
    {
        MathNode math => StartOf(math.Left),
        CompareNode compare => StartOf(compare.Left),
        AndNode and => StartOf(and.Left),
        OrNode or => StartOf(or.Left),
        _ => node.Pos,
    };

    private OttlPredicate CompileComparison(CompareNode compare)
    {
        var left = CompileValue(compare.Left);
        var right = CompileValue(compare.Right);
        var op = compare.Op;
        // A literal side is evaluated once, here, instead of through a delegate per item.
        if (compare.Right is LiteralNode { Value: var rightConstant })
            return ctx => Operators.Compare(left(ctx), rightConstant, op);
        if (compare.Left is LiteralNode { Value: var leftConstant })
            return ctx => Operators.Compare(leftConstant, right(ctx), op);
        return ctx => Operators.Compare(left(ctx), right(ctx), op);
    }

    public OttlGetter CompileValue(Node node)
    {
        switch (node)
        {
            case LiteralNode literal:
                var value = literal.Value;
                return _ => value;
            case EnumNode e:
                var enumValue = OttlEnums.Lookup(e.Name) ?? throw Error(e.Pos, $"unknown enum or symbol \"{e.Name}\"");
                var enumConstant = OttlValue.Of(enumValue);
                return _ => enumConstant;
            case PathNode path:
                return Paths.Resolve(path, this).Get;
            case CallNode call:
                return CompileConverter(call);
            case MathNode math:
            {
                var left = CompileValue(math.Left);
                var right = CompileValue(math.Right);
                var op = math.Op;
                return ctx => Operators.Math(left(ctx), right(ctx), op);
            }
            case ListNode list:
                return CompileList(list);
            case MapNode map:
                return CompileMap(map);
            case CompareNode or AndNode or OrNode or NotNode:
                var predicate = CompileCondition(node);
                return ctx => OttlValue.Of(predicate(ctx));
            default:
                throw Error(node.Pos, "unsupported expression");
        }
    }

    public CompiledPath CompilePath(Node node, string what)
    {
        if (node is not PathNode path) throw Error(node.Pos, $"{what} must be a path (e.g. attributes[\"key\"])");
        return Paths.Resolve(path, this);
    }

    private OttlGetter CompileConverter(CallNode call)
    {
        if (!call.IsConverter)
            throw Error(call.Pos, OttlFunctions.Editor(call.Name) is null
                ? $"unknown function \"{call.Name}\""
                : $"the editor {call.Name} cannot be used as a value; only converters (upper-case names) return values");
        var function = OttlFunctions.Converter(call.Name) ?? throw Error(call.Pos, $"unknown converter \"{call.Name}\"");
        var getter = function.CompileConverter!(BindArguments(function, call));
        if (call.Keys.Count == 0) return getter;
        var keys = call.Keys.Select(k => CompileValue(k.Key)).ToArray();
        return ctx =>
        {
            var result = getter(ctx);
            foreach (var key in keys)
            {
                if (result.IsNil) return result;
                var k = key(ctx);
                result = result.Type switch
                {
                    OttlType.Map when k.Type == OttlType.String => OttlValue.FromAny(OtelAi.Otlp.Attributes.Get(result.Map, k.String)),
                    OttlType.List when k.Type == OttlType.Int => k.Int >= 0 && k.Int < result.List.Count
                        ? OttlValue.FromAny(result.List[(int)k.Int])
                        : throw new OttlRuntimeException($"index {k.Int} out of bounds (list length {result.List.Count})"),
                    _ => throw new OttlRuntimeException($"a {result.TypeName} cannot be indexed with a {k.TypeName} key ({k})"),
                };
            }
            return result;
        };
    }

    private OttlGetter CompileList(ListNode list)
    {
        var items = list.Items.Select(CompileValue).ToArray();
        if (list.Items.All(i => i is LiteralNode))
        {
            // Built once; setters deep-copy lists, so sharing the constant is safe.
            var constant = new RepeatedField<AnyValue>();
            foreach (var item in list.Items) constant.Add(((LiteralNode)item).Value.ToAny());
            return _ => OttlValue.Of(constant);
        }
        return ctx =>
        {
            var result = new RepeatedField<AnyValue>();
            foreach (var item in items) result.Add(item(ctx).ToAny());
            return OttlValue.Of(result);
        };
    }

    private OttlGetter CompileMap(MapNode map)
    {
        var entries = map.Entries.Select(e => (e.Key, Value: CompileValue(e.Value))).ToArray();
        return ctx =>
        {
            var result = new RepeatedField<KeyValue>();
            foreach (var (key, value) in entries)
                OtelAi.Otlp.Attributes.Upsert(result, key, value(ctx).ToAny());
            return OttlValue.Of(result);
        };
    }

    private FunctionArguments BindArguments(OttlFunction function, CallNode call)
    {
        var slots = new Node?[function.Parameters.Length];
        var named = false;
        for (var i = 0; i < call.Args.Count; i++)
        {
            var arg = call.Args[i];
            int index;
            if (arg.Name is null)
            {
                if (named) throw Error(arg.Pos, "positional arguments cannot follow named arguments");
                index = i;
                if (index >= slots.Length)
                    throw Error(arg.Pos, $"{function.Name} takes at most {slots.Length} argument(s), got {call.Args.Count}");
            }
            else
            {
                named = true;
                index = Array.IndexOf(function.Parameters, arg.Name);
                if (index < 0) throw Error(arg.Pos, $"{function.Name} has no parameter named \"{arg.Name}\" (parameters: {string.Join(", ", function.Parameters)})");
                if (slots[index] is not null) throw Error(arg.Pos, $"argument \"{arg.Name}\" given twice");
            }
            slots[index] = arg.Value;
        }
        for (var i = 0; i < function.Required; i++)
            if (slots[i] is null)
                throw Error(call.Pos, $"{function.Name} needs {function.Required} argument(s) ({string.Join(", ", function.Parameters.Take(function.Required))}), missing \"{function.Parameters[i]}\"");
        return new FunctionArguments(this, call, slots);
    }
}

/// <summary>The bound arguments of one invocation, with helpers that check literal arguments at config time.</summary>
internal sealed class FunctionArguments(Compiler compiler, CallNode call, Node?[] slots)
{
    public Compiler Compiler => compiler;

    public bool Has(int index) => slots[index] is not null;

    private Node At(int index) => slots[index] ?? throw compiler.Error(call.Pos, $"missing argument {index + 1} of {call.Name}");

    public OttlCompileException Error(int index, string problem) => compiler.Error(slots[index]?.Pos ?? call.Pos, $"{call.Name}: {problem}");

    public OttlGetter Getter(int index) => compiler.CompileValue(At(index));

    public CompiledPath Target(int index)
    {
        var path = compiler.CompilePath(At(index), $"{call.Name}'s target");
        if (path.Set is null) throw Error(index, $"path \"{path.Text}\" is read-only");
        return path;
    }

    public string String(int index)
    {
        var node = At(index);
        return node is LiteralNode { Value.Type: OttlType.String } literal
            ? literal.Value.String
            : throw Error(index, "expected a string literal");
    }

    public long Int(int index)
    {
        var node = At(index);
        return node is LiteralNode { Value.Type: OttlType.Int } literal
            ? literal.Value.Int
            : throw Error(index, "expected an int literal");
    }

    public ListNode? ListNodeAt(int index) => At(index) as ListNode;

    /// <summary>A function passed by name, e.g. the SHA256 in replace_pattern(..., SHA256, "%s").</summary>
    public string? FunctionName(int index) => At(index) is EnumNode e ? e.Name : null;

    public IReadOnlyList<string> Strings(int index)
    {
        var node = At(index);
        if (node is not ListNode list) throw Error(index, "expected a list of string literals");
        return list.Items.Select(item => item is LiteralNode { Value.Type: OttlType.String } literal
            ? literal.Value.String
            : throw compiler.Error(item.Pos, $"{call.Name}: expected a string literal")).ToArray();
    }

    public System.Text.RegularExpressions.Regex Regex(int index)
    {
        var pattern = String(index);
        try
        {
            return OtelAi.Processors.Common.GoRegex.Compile(pattern);
        }
        catch (ArgumentException e)
        {
            throw Error(index, $"invalid regex \"{pattern}\": {e.Message}");
        }
    }
}
