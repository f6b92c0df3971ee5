namespace OtelAi.Processors.Ottl;

/// <summary>OTTL's comparison and math rules (pkg/ottl LANGUAGE.md "Comparison Rules" and "Math Expressions").</summary>
internal static class Operators
{
    /// <summary>
    /// Values of different types are "not equal" (only != is true), except int and double, which compare as doubles.
    /// nil equals nil and empty bytes; maps and lists support only == and != (by content).
    /// </summary>
    public static bool Compare(in OttlValue left, in OttlValue right, CompareOp op)
    {
        // The common case (name == "x") without the general ordering machinery.
        if (op is CompareOp.Eq or CompareOp.Ne && left.Type == OttlType.String && right.Type == OttlType.String)
            return string.Equals(left.String, right.String) == (op == CompareOp.Eq);
        int? order = Order(left, right);
        if (order is null)
            return op == CompareOp.Ne ? !StructurallyEqual(left, right) : op == CompareOp.Eq && StructurallyEqual(left, right);
        var c = order.Value;
        return op switch
        {
            CompareOp.Eq => c == 0,
            CompareOp.Ne => c != 0,
            CompareOp.Lt => c < 0,
            CompareOp.Le => c <= 0,
            CompareOp.Gt => c > 0,
            _ => c >= 0,
        };
    }

    // Ordering for types that have one; null when only equality applies (or types differ).
    private static int? Order(in OttlValue left, in OttlValue right)
    {
        switch (left.Type)
        {
            case OttlType.Int when right.Type == OttlType.Int: return left.Int.CompareTo(right.Int);
            case OttlType.Int when right.Type == OttlType.Double: return CompareDoubles(left.Int, right.Double);
            case OttlType.Double when right.Type == OttlType.Int: return CompareDoubles(left.Double, right.Int);
            case OttlType.Double when right.Type == OttlType.Double: return CompareDoubles(left.Double, right.Double);
            case OttlType.String when right.Type == OttlType.String: return string.CompareOrdinal(left.String, right.String) switch { < 0 => -1, > 0 => 1, _ => 0 };
            case OttlType.Bool when right.Type == OttlType.Bool: return left.Int.CompareTo(right.Int);
            case OttlType.Time when right.Type == OttlType.Time: return left.Int.CompareTo(right.Int);
            case OttlType.Duration when right.Type == OttlType.Duration: return left.Int.CompareTo(right.Int);
            default: return null;
        }
    }

    // NaN compares unequal to everything, as in Go.
    private static int? CompareDoubles(double a, double b) => a < b ? -1 : a > b ? 1 : a == b ? 0 : null;

    private static bool StructurallyEqual(in OttlValue left, in OttlValue right)
    {
        if (left.Type == OttlType.Nil) return right.Type == OttlType.Nil || (right.Type == OttlType.Bytes && right.Bytes.IsEmpty);
        if (right.Type == OttlType.Nil) return left.Type == OttlType.Bytes && left.Bytes.IsEmpty;
        if (left.Type != right.Type) return false;
        return left.Type switch
        {
            OttlType.Bytes => left.Bytes.Span.SequenceEqual(right.Bytes.Span),
            OttlType.Map => MapsEqual(left, right),
            OttlType.List => left.List.Equals(right.List),
            _ => false,
        };
    }

    private static bool MapsEqual(in OttlValue left, in OttlValue right)
    {
        var a = left.Map;
        var b = right.Map;
        if (a.Count != b.Count) return false;
        foreach (var kv in a)
        {
            var other = OtelAi.Otlp.Attributes.Get(b, kv.Key);
            if (other is null || !Equals(kv.Value, other)) return false;
        }
        return true;
    }

    /// <summary>+ - * / on int, double, time and duration; mixing int and double is an error, as in otelcol.</summary>
    public static OttlValue Math(in OttlValue left, in OttlValue right, char op)
    {
        switch (left.Type)
        {
            case OttlType.Int when right.Type == OttlType.Int:
                return op switch
                {
                    '+' => OttlValue.Of(left.Int + right.Int),
                    '-' => OttlValue.Of(left.Int - right.Int),
                    '*' => OttlValue.Of(left.Int * right.Int),
                    _ => right.Int == 0 ? throw new OttlRuntimeException("attempted to divide by 0") : OttlValue.Of(left.Int / right.Int),
                };
            case OttlType.Double when right.Type == OttlType.Double:
                return op switch
                {
                    '+' => OttlValue.Of(left.Double + right.Double),
                    '-' => OttlValue.Of(left.Double - right.Double),
                    '*' => OttlValue.Of(left.Double * right.Double),
                    _ => right.Double == 0 ? throw new OttlRuntimeException("attempted to divide by 0") : OttlValue.Of(left.Double / right.Double),
                };
            case OttlType.Time when right.Type == OttlType.Time && op == '-':
                return OttlValue.DurationOf(left.Int - right.Int);
            case OttlType.Time when right.Type == OttlType.Duration && op is '+' or '-':
                return OttlValue.TimeOf(op == '+' ? left.Int + right.Int : left.Int - right.Int);
            case OttlType.Duration when right.Type == OttlType.Time && op == '+':
                return OttlValue.TimeOf(left.Int + right.Int);
            case OttlType.Duration when right.Type == OttlType.Duration && op is '+' or '-':
                return OttlValue.DurationOf(op == '+' ? left.Int + right.Int : left.Int - right.Int);
        }
        throw new OttlRuntimeException($"unsupported math operation: {left.TypeName} {op} {right.TypeName}" +
            (left.Type is OttlType.Int or OttlType.Double && right.Type is OttlType.Int or OttlType.Double
                ? " (int and double cannot be mixed; convert with Double() or Int())" : ""));
    }
}
