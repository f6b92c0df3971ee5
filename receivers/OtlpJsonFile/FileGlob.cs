using System.Text;
using System.Text.RegularExpressions;

namespace OtelAi.Receivers.OtlpJsonFile;

/// <summary>
/// A doublestar glob over absolute paths, as otelcol's file consumer uses: <c>*</c> and <c>?</c> stay within a
/// path segment, <c>**</c> spans directories, <c>[...]</c> and <c>{a,b}</c> are classes and alternatives.
/// </summary>
internal sealed class FileGlob
{
    private readonly Regex _regex;

    public FileGlob(string pattern)
    {
        Pattern = Path.GetFullPath(pattern);
        var firstWildcard = Pattern.IndexOfAny(['*', '?', '[', '{']);
        var literalPrefix = firstWildcard < 0 ? Pattern : Pattern[..firstWildcard];
        BaseDirectory = firstWildcard < 0 ? Path.GetDirectoryName(Pattern)! : literalPrefix[..(literalPrefix.LastIndexOf('/') + 1)];
        if (BaseDirectory.Length == 0) BaseDirectory = "/";
        // Only patterns with a wildcard in a directory segment need a recursive walk.
        Recursive = firstWildcard >= 0 && Pattern.IndexOf('/', firstWildcard) >= 0;
        _regex = new Regex(ToRegex(Pattern), RegexOptions.CultureInvariant);
    }

    public string Pattern { get; }

    /// <summary>The deepest directory without wildcards: where the search starts.</summary>
    public string BaseDirectory { get; }

    public bool Recursive { get; }

    public bool IsMatch(string fullPath) => _regex.IsMatch(fullPath);

    /// <summary>Existing files that match; a missing base directory is simply no match yet.</summary>
    public IEnumerable<string> EnumerateMatches()
    {
        if (!Directory.Exists(BaseDirectory)) return [];
        var options = new EnumerationOptions { RecurseSubdirectories = Recursive, IgnoreInaccessible = true, AttributesToSkip = 0 };
        return Directory.EnumerateFiles(BaseDirectory, "*", options).Where(IsMatch);
    }

    private static string ToRegex(string glob)
    {
        var regex = new StringBuilder("^");
        var braceDepth = 0;
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            switch (c)
            {
                case '*' when i + 1 < glob.Length && glob[i + 1] == '*':
                    // "/**/" also matches a single "/" (zero directories).
                    if (i + 2 < glob.Length && glob[i + 2] == '/')
                    {
                        regex.Append("(?:.*/)?");
                        i += 2;
                    }
                    else
                    {
                        regex.Append(".*");
                        i++;
                    }
                    break;
                case '*': regex.Append("[^/]*"); break;
                case '?': regex.Append("[^/]"); break;
                case '[':
                    var close = glob.IndexOf(']', i + 1);
                    if (close < 0) { regex.Append(@"\["); break; }
                    var body = glob[(i + 1)..close];
                    regex.Append('[').Append(body.StartsWith('!') ? "^" + Regex.Escape(body[1..]) : Regex.Escape(body)).Append(']');
                    i = close;
                    break;
                case '{': regex.Append("(?:"); braceDepth++; break;
                case '}' when braceDepth > 0: regex.Append(')'); braceDepth--; break;
                case ',' when braceDepth > 0: regex.Append('|'); break;
                default: regex.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return regex.Append('$').ToString();
    }
}
