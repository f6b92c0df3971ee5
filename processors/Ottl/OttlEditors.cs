using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>otelcol's ottlfuncs editors.</summary>
internal static partial class OttlFunctions
{
    private static void RegisterEditors()
    {
        Editor("set", ["target", "value"], 2, a =>
        {
            var set = a.Target(0).Set!;
            var value = a.Getter(1);
            // A nil value (e.g. a missing attribute) leaves the target alone, as in otelcol.
            return ctx =>
            {
                var v = value(ctx);
                if (!v.IsNil) set(ctx, v);
            };
        });

        Editor("delete_key", ["target", "key"], 2, a =>
        {
            var target = a.Target(0).Get;
            var key = a.String(1);
            return ctx => MapOf(target(ctx), "delete_key")?.Remove(key);
        });

        Editor("delete_matching_keys", ["target", "pattern"], 2, a =>
        {
            var target = a.Target(0).Get;
            var pattern = a.Regex(1);
            return ctx =>
            {
                if (MapOf(target(ctx), "delete_matching_keys") is { } map) RemoveWhere(map, kv => pattern.IsMatch(kv.Key));
            };
        });

        Editor("keep_keys", ["target", "keys"], 2, a =>
        {
            var target = a.Target(0).Get;
            var keys = a.Strings(1).ToArray();
            return ctx =>
            {
                if (MapOf(target(ctx), "keep_keys") is { } map) RemoveWhere(map, kv => Array.IndexOf(keys, kv.Key) < 0);
            };
        });

        Editor("keep_matching_keys", ["target", "pattern"], 2, a =>
        {
            var target = a.Target(0).Get;
            var pattern = a.Regex(1);
            return ctx =>
            {
                if (MapOf(target(ctx), "keep_matching_keys") is { } map) RemoveWhere(map, kv => !pattern.IsMatch(kv.Key));
            };
        });

        Editor("limit", ["target", "limit", "priority_keys"], 3, a =>
        {
            var target = a.Target(0).Get;
            var limit = a.Int(1);
            var priority = a.Strings(2).Distinct().ToArray();
            if (limit < 0) throw a.Error(1, $"limit {limit} cannot be negative");
            if (priority.Length > limit) throw a.Error(2, $"{priority.Length} priority keys exceed the limit {limit}");
            return ctx =>
            {
                if (MapOf(target(ctx), "limit") is not { } map || map.Count <= limit) return;
                // Priority keys first, then the others in their current order, until the limit.
                var room = limit - map.Count(kv => Array.IndexOf(priority, kv.Key) >= 0);
                RemoveWhere(map, kv => Array.IndexOf(priority, kv.Key) < 0 && room-- <= 0);
            };
        });

        Editor("truncate_all", ["target", "limit"], 2, a =>
        {
            var target = a.Target(0).Get;
            var limit = a.Int(1);
            if (limit < 0) throw a.Error(1, $"limit {limit} cannot be negative");
            return ctx =>
            {
                if (MapOf(target(ctx), "truncate_all") is not { } map) return;
                foreach (var kv in map)
                    if (kv.Value?.ValueCase == AnyValue.ValueOneofCase.StringValue)
                        kv.Value.StringValue = TruncateUtf8(kv.Value.StringValue, (int)Math.Min(limit, int.MaxValue));
            };
        });

        Editor("replace_pattern", ["target", "regex", "replacement", "function", "replacementFormat"], 3, a =>
        {
            var path = a.Target(0);
            var regex = a.Regex(1);
            var replacement = a.Getter(2);
            var transform = ReplacementTransform(a, 3, 4);
            return ctx =>
            {
                var current = path.Get(ctx);
                if (current.Type != OttlType.String) return;
                var replaced = Replace(regex, current.String, RequireString(replacement(ctx), "replace_pattern replacement"), transform);
                if (!ReferenceEquals(replaced, current.String)) path.Set!(ctx, OttlValue.Of(replaced));
            };
        });

        Editor("replace_all_patterns", ["target", "mode", "regex", "replacement", "function", "replacementFormat"], 4, a =>
        {
            var target = a.Target(0).Get;
            var mode = a.String(1);
            if (mode is not ("key" or "value")) throw a.Error(1, $"mode must be \"key\" or \"value\", got \"{mode}\"");
            var regex = a.Regex(2);
            var replacement = a.Getter(3);
            var transform = ReplacementTransform(a, 4, 5);
            return ctx =>
            {
                if (MapOf(target(ctx), "replace_all_patterns") is not { } map) return;
                var with = RequireString(replacement(ctx), "replace_all_patterns replacement");
                foreach (var kv in map)
                {
                    if (mode == "key") kv.Key = Replace(regex, kv.Key, with, transform);
                    else if (kv.Value?.ValueCase == AnyValue.ValueOneofCase.StringValue)
                        kv.Value.StringValue = Replace(regex, kv.Value.StringValue, with, transform);
                }
            };
        });

        Editor("replace_match", ["target", "pattern", "replacement", "function", "replacementFormat"], 3, a =>
        {
            var path = a.Target(0);
            var glob = Glob(a, 1);
            var replacement = a.Getter(2);
            var transform = ReplacementTransform(a, 3, 4);
            return ctx =>
            {
                var current = path.Get(ctx);
                if (current.Type == OttlType.String && glob.IsMatch(current.String))
                    path.Set!(ctx, OttlValue.Of(transform(RequireString(replacement(ctx), "replace_match replacement"))));
            };
        });

        Editor("replace_all_matches", ["target", "pattern", "replacement", "function", "replacementFormat"], 3, a =>
        {
            var target = a.Target(0).Get;
            var glob = Glob(a, 1);
            var replacement = a.Getter(2);
            var transform = ReplacementTransform(a, 3, 4);
            return ctx =>
            {
                if (MapOf(target(ctx), "replace_all_matches") is not { } map) return;
                var with = transform(RequireString(replacement(ctx), "replace_all_matches replacement"));
                foreach (var kv in map)
                    if (kv.Value?.ValueCase == AnyValue.ValueOneofCase.StringValue && glob.IsMatch(kv.Value.StringValue))
                        kv.Value.StringValue = with;
            };
        });

        Editor("merge_maps", ["target", "source", "strategy"], 3, a =>
        {
            var target = a.Target(0).Get;
            var source = a.Getter(1);
            var strategy = a.String(2);
            if (strategy is not ("insert" or "update" or "upsert"))
                throw a.Error(2, $"strategy must be insert, update or upsert, got \"{strategy}\"");
            return ctx =>
            {
                if (MapOf(target(ctx), "merge_maps") is not { } map) return;
                var from = source(ctx);
                if (from.IsNil) return;
                if (from.Type != OttlType.Map) throw new OttlRuntimeException($"merge_maps source must be a map but got {from.TypeName} ({from})");
                foreach (var kv in from.Map.ToArray())
                {
                    var value = kv.Value?.Clone() ?? new AnyValue();
                    _ = strategy switch
                    {
                        "insert" => map.Insert(kv.Key, value),
                        "update" => map.Update(kv.Key, value),
                        _ => Upserted(map, kv.Key, value),
                    };
                }
            };
        });

        Editor("append", ["target", "value", "values"], 1, a =>
        {
            var path = a.Target(0);
            var value = a.Has(1) ? a.Getter(1) : null;
            var values = a.Has(2) ? a.Getter(2) : null;
            if (value is null && values is null) throw a.Error(0, "append needs a value or values argument");
            return ctx =>
            {
                var current = path.Get(ctx);
                var result = new RepeatedField<AnyValue>();
                switch (current.Type)
                {
                    case OttlType.Nil: break;
                    case OttlType.List: foreach (var item in current.List) result.Add(item.Clone()); break;
                    default: result.Add(current.ToAny()); break;
                }
                if (value is not null)
                {
                    var v = value(ctx);
                    if (!v.IsNil) result.Add(v.ToAny());
                }
                if (values is not null)
                {
                    var list = values(ctx);
                    if (list.Type == OttlType.List) foreach (var item in list.List) result.Add(item.Clone());
                    else if (!list.IsNil) throw new OttlRuntimeException($"append values must be a list but got {list.TypeName}");
                }
                path.Set!(ctx, OttlValue.Of(result));
            };
        });

        Editor("flatten", ["target", "prefix", "depth"], 1, a =>
        {
            var path = a.Target(0);
            var prefix = a.Has(1) ? a.String(1) : "";
            var depth = a.Has(2) ? a.Int(2) : 100;
            if (depth < 0) throw a.Error(2, $"depth {depth} cannot be negative");
            return ctx =>
            {
                if (MapOf(path.Get(ctx), "flatten") is not { } map) return;
                var flat = new RepeatedField<KeyValue>();
                Flatten(flat, prefix, map, 0, depth);
                map.Clear();
                map.Add(flat);
            };
        });
    }

    private static bool Upserted(RepeatedField<KeyValue> map, string key, AnyValue value)
    {
        map.Upsert(key, value);
        return true;
    }

    private static void Flatten(RepeatedField<KeyValue> into, string prefix, IEnumerable<(string Key, AnyValue Value)> entries, int level, long depth)
    {
        foreach (var (key, value) in entries)
        {
            var name = prefix.Length == 0 ? key : prefix + "." + key;
            if (level < depth && value.ValueCase == AnyValue.ValueOneofCase.KvlistValue)
                Flatten(into, name, value.KvlistValue.Values.Select(kv => (kv.Key, kv.Value ?? new AnyValue())), level + 1, depth);
            else if (level < depth && value.ValueCase == AnyValue.ValueOneofCase.ArrayValue)
                Flatten(into, name, value.ArrayValue.Values.Select((v, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), v)), level + 1, depth);
            else
                into.Add(new KeyValue { Key = name, Value = value });
        }
    }

    private static void Flatten(RepeatedField<KeyValue> into, string prefix, RepeatedField<KeyValue> map, int level, long depth) =>
        Flatten(into, prefix, map.Select(kv => (kv.Key, kv.Value ?? new AnyValue())).ToList(), level, depth);

    private static string RequireString(in OttlValue value, string what) =>
        value.Type == OttlType.String ? value.String : throw new OttlRuntimeException($"{what} must be a string but got {value.TypeName}");

    // Regex.Replace returns the same instance when nothing matched, which lets callers skip the write.
    private static string Replace(Regex regex, string input, string replacement, Func<string, string> transform) =>
        ReferenceEquals(transform, IdentityTransform)
            ? regex.Replace(input, replacement)
            : regex.Replace(input, m => transform(m.Result(replacement)));

    private static readonly Func<string, string> IdentityTransform = static s => s;

    /// <summary>Truncates to at most <paramref name="maxBytes"/> UTF-8 bytes without splitting a character.</summary>
    private static string TruncateUtf8(string value, int maxBytes)
    {
        if (value.Length <= maxBytes / 3 || Encoding.UTF8.GetByteCount(value) <= maxBytes) return value;
        var bytes = 0;
        var i = 0;
        while (i < value.Length)
        {
            var width = char.IsHighSurrogate(value[i]) && i + 1 < value.Length ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(value.AsSpan(i, width));
            if (bytes + size > maxBytes) break;
            bytes += size;
            i += width;
        }
        return value[..i];
    }

    /// <summary>A gobwas-style glob (<c>*</c>, <c>?</c>, <c>[...]</c>, <c>{a,b}</c>) as an anchored regex.</summary>
    private static Regex Glob(FunctionArguments a, int index)
    {
        var glob = a.String(index);
        var regex = new StringBuilder("^");
        var inBraces = 0;
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            switch (c)
            {
                case '*': regex.Append(".*"); break;
                case '?': regex.Append('.'); break;
                case '\\' when i + 1 < glob.Length: regex.Append(Regex.Escape(glob[++i].ToString())); break;
                case '[':
                    var close = glob.IndexOf(']', i + 1);
                    if (close < 0) throw a.Error(index, $"unterminated [ in pattern \"{glob}\"");
                    var set = glob[(i + 1)..close];
                    regex.Append('[').Append(set.StartsWith('!') ? "^" + set[1..] : set).Append(']');
                    i = close;
                    break;
                case '{': inBraces++; regex.Append("(?:"); break;
                case '}' when inBraces > 0: inBraces--; regex.Append(')'); break;
                case ',' when inBraces > 0: regex.Append('|'); break;
                default: regex.Append(Regex.Escape(c.ToString())); break;
            }
        }
        if (inBraces > 0) throw a.Error(index, $"unterminated {{ in pattern \"{glob}\"");
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }
}
