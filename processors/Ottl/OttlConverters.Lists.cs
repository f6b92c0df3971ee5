using System.Globalization;
using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>otelcol's ottlfuncs for slices: the delete_index editor, and the SliceToMap and Sort converters.</summary>
internal static partial class OttlFunctions
{
    private static void RegisterListFunctions()
    {
        // Removes target[startIndex, endIndex); endIndex defaults to startIndex + 1; equal indexes change nothing.
        Editor("delete_index", ["target", "startIndex", "endIndex"], 2, a =>
        {
            var path = a.Target(0);
            var start = a.Getter(1);
            var end = a.Has(2) ? a.Getter(2) : null;
            return ctx =>
            {
                var current = path.Get(ctx);
                if (current.Type != OttlType.List) throw new OttlRuntimeException($"delete_index: target must be a list but got {current.TypeName}");
                var list = current.List;
                var from = RequireInt(start(ctx), "delete_index startIndex");
                var to = end is null ? from + 1 : RequireInt(end(ctx), "delete_index endIndex");
                if (from < 0 || from >= list.Count) throw new OttlRuntimeException($"delete_index: startIndex {from} is out of range (length {list.Count})");
                if (to < from || to > list.Count) throw new OttlRuntimeException($"delete_index: endIndex {to} is out of range ({from} to {list.Count})");
                if (to == from) return;
                var kept = new RepeatedField<AnyValue>();
                for (var i = 0; i < list.Count; i++)
                    if (i < from || i >= to) kept.Add(list[i].Clone());
                path.Set!(ctx, OttlValue.Of(kept));
            };
        });

        // A span whose parent span id is empty (all zeros): the root of its trace. Span context only.
        Converter("IsRootSpan", [], 0, a =>
        {
            if (a.Compiler.Context != OttlContextKind.Span)
                throw a.Compiler.Error(0, $"IsRootSpan is supported in the span context only, not in {a.Compiler.Context.Name()}");
            return ctx => OttlValue.Of(ctx.Span.ParentSpanId.Span.IndexOfAnyExcept((byte)0) < 0);
        });

        Converter("SliceToMap", ["target", "keyPath", "valuePath"], 1, a =>
        {
            var target = a.Getter(0);
            var keyPath = a.Has(1) ? a.Strings(1) : null;
            var valuePath = a.Has(2) ? a.Strings(2) : null;
            if (keyPath is { Count: 0 }) throw a.Error(1, "keyPath must name at least one key");
            if (valuePath is { Count: 0 }) throw a.Error(2, "valuePath must name at least one key");
            return ctx =>
            {
                var v = target(ctx);
                if (v.Type != OttlType.List) throw new OttlRuntimeException($"SliceToMap: target must be a list but got {v.TypeName}");
                var map = new RepeatedField<KeyValue>();
                for (var i = 0; i < v.List.Count; i++)
                {
                    var item = v.List[i];
                    string key;
                    if (keyPath is null) key = i.ToString(CultureInfo.InvariantCulture);
                    else if (Descend(item, keyPath) is { ValueCase: AnyValue.ValueOneofCase.StringValue } found) key = found.StringValue;
                    else throw new OttlRuntimeException($"SliceToMap: item {i} has no string at key path [{string.Join(", ", keyPath)}]");
                    var value = valuePath is null ? item : Descend(item, valuePath);
                    if (value is null) throw new OttlRuntimeException($"SliceToMap: item {i} has no value at value path [{string.Join(", ", valuePath!)}]");
                    map.Upsert(key, value.Clone());
                }
                return OttlValue.Of(map);
            };
        });

        Converter("Sort", ["target", "order"], 1, a =>
        {
            var target = a.Getter(0);
            var order = a.Has(1) ? a.String(1) : "asc";
            if (order is not ("asc" or "desc")) throw a.Error(1, $"order must be asc or desc, got \"{order}\"");
            return ctx =>
            {
                var v = target(ctx);
                if (v.Type != OttlType.List) throw new OttlRuntimeException($"Sort: target must be a list but got {v.TypeName}");
                var items = v.List.Select(i => i.Clone()).ToList();
                var cases = items.Select(i => i.ValueCase).ToHashSet();
                if (cases.Any(c => c is not (AnyValue.ValueOneofCase.IntValue or AnyValue.ValueOneofCase.DoubleValue or AnyValue.ValueOneofCase.StringValue or AnyValue.ValueOneofCase.BoolValue)))
                    throw new OttlRuntimeException("Sort: only lists of ints, doubles, strings and booleans can be sorted");
                // Numbers compare as numbers; anything else (strings, booleans, mixes) by their string form. Types are kept.
                Comparison<AnyValue> compare = cases.IsSubsetOf([AnyValue.ValueOneofCase.IntValue, AnyValue.ValueOneofCase.DoubleValue])
                    ? cases.Count == 1 && cases.Contains(AnyValue.ValueOneofCase.IntValue)
                        ? (x, y) => x.IntValue.CompareTo(y.IntValue)
                        : (x, y) => Number(x).CompareTo(Number(y))
                    : (x, y) => string.CompareOrdinal(SortText(x), SortText(y));
                var sorted = order == "asc" ? items.Order(Comparer<AnyValue>.Create(compare)) : items.OrderDescending(Comparer<AnyValue>.Create(compare));
                var result = new RepeatedField<AnyValue>();
                result.AddRange(sorted);
                return OttlValue.Of(result);
            };
        });
    }

    private static long RequireInt(in OttlValue value, string what) =>
        value.Type == OttlType.Int ? value.Int : throw new OttlRuntimeException($"{what} must be an int but got {value.TypeName}");

    /// <summary>The value at a path of map keys inside <paramref name="item"/>, or null when a step is missing or not a map.</summary>
    private static AnyValue? Descend(AnyValue item, IReadOnlyList<string> path)
    {
        var current = item;
        foreach (var key in path)
        {
            if (current.ValueCase != AnyValue.ValueOneofCase.KvlistValue) return null;
            current = current.KvlistValue.Values.FirstOrDefault(kv => kv.Key == key)?.Value;
            if (current is null) return null;
        }
        return current;
    }

    private static double Number(AnyValue value) => value.ValueCase == AnyValue.ValueOneofCase.IntValue ? value.IntValue : value.DoubleValue;

    private static string SortText(AnyValue value) => value.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        _ => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
    };
}
