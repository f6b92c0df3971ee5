using Google.Protobuf.Collections;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>
/// One OTTL function: an editor (lower-case, changes telemetry) or a converter (upper-case, returns a value).
/// <see cref="Parameters"/> names the parameters (for named arguments); the first <see cref="Required"/> are mandatory.
/// </summary>
internal sealed record OttlFunction(
    string Name,
    string[] Parameters,
    int Required,
    Func<FunctionArguments, OttlAction>? CompileEditor = null,
    Func<FunctionArguments, OttlGetter>? CompileConverter = null);

/// <summary>The registry of editors (<see cref="Editors"/>) and converters (<see cref="Converters"/>), with otelcol's names and parameters.</summary>
internal static partial class OttlFunctions
{
    private static readonly Dictionary<string, OttlFunction> All = new(StringComparer.Ordinal);

    static OttlFunctions()
    {
        RegisterEditors();
        RegisterConverters();
        RegisterStringAndTimeConverters();
        RegisterListFunctions();
        RegisterEncodingAndCaseConverters();
    }

    public static OttlFunction? Editor(string name) => All.TryGetValue(name, out var f) && f.CompileEditor is not null ? f : null;

    public static OttlFunction? Converter(string name) => All.TryGetValue(name, out var f) && f.CompileConverter is not null ? f : null;

    private static void Editor(string name, string[] parameters, int required, Func<FunctionArguments, OttlAction> compile) =>
        All.Add(name, new OttlFunction(name, parameters, required, CompileEditor: compile));

    private static void Converter(string name, string[] parameters, int required, Func<FunctionArguments, OttlGetter> compile) =>
        All.Add(name, new OttlFunction(name, parameters, required, CompileConverter: compile));

    // ---- shared helpers ----

    /// <summary>The map a target path points at, or null when it is nil; any other type is a run-time error.</summary>
    private static RepeatedField<KeyValue>? MapOf(in OttlValue value, string function)
    {
        if (value.IsNil) return null;
        return value.Type == OttlType.Map
            ? value.Map
            : throw new OttlRuntimeException($"{function} expects a map target but got {value.TypeName} ({value})");
    }

    /// <summary>
    /// Removes the entries <paramref name="remove"/> selects, in place, compacting so removal is linear.
    /// </summary>
    internal static void RemoveWhere<T>(RepeatedField<T> items, Func<T, bool> remove)
    {
        var kept = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (remove(item)) continue;
            if (kept != i) items[kept] = item;
            kept++;
        }
        for (var i = items.Count - 1; i >= kept; i--) items.RemoveAt(i);
    }

    /// <summary>
    /// The optional (function, format) pair of the replace_* editors: hash the replacement with a converter such
    /// as SHA256, then format it with a Go-style "%s" format.
    /// </summary>
    private static Func<string, string> ReplacementTransform(FunctionArguments a, int functionIndex, int formatIndex)
    {
        if (!a.Has(functionIndex))
        {
            if (a.Has(formatIndex)) throw a.Error(formatIndex, "replacementFormat needs a function argument");
            return IdentityTransform;
        }
        var name = a.FunctionName(functionIndex) ?? throw a.Error(functionIndex, "expected a hash converter name such as SHA256");
        Func<string, string> hash = name switch
        {
            "SHA1" => Hashing.Sha1,
            "SHA256" => Hashing.Sha256,
            "SHA512" => Hashing.Sha512,
            "MD5" => Hashing.Md5,
            "FNV" => s => Hashing.Fnv(s).ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw a.Error(functionIndex, $"unsupported replacement function \"{name}\" (SHA1, SHA256, SHA512, MD5, FNV)"),
        };
        if (!a.Has(formatIndex)) return hash;
        var format = a.String(formatIndex);
        if (!format.Contains("%s")) throw a.Error(formatIndex, "replacementFormat must contain %s");
        return s => format.Replace("%s", hash(s));
    }
}

/// <summary>Hex digests as otelcol's hash converters return them.</summary>
internal static class Hashing
{
    public static string Sha1(string s) => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(s)));
    public static string Sha256(string s) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(s)));
    public static string Sha512(string s) => Convert.ToHexStringLower(System.Security.Cryptography.SHA512.HashData(System.Text.Encoding.UTF8.GetBytes(s)));
    public static string Md5(string s) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(s)));

    /// <summary>64-bit FNV-1a of the UTF-8 bytes, as a signed int (Go's fnv.New64a().Sum64() cast to int64).</summary>
    public static long Fnv(string s)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(s))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return unchecked((long)hash);
    }
}
