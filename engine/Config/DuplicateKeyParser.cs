using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace OtelAi.Engine.Config;

/// <summary>
/// A YAML event stream in which a mapping key seen before in the same mapping is renamed to a marker, so loading
/// goes on (YamlDotNet stops at the first duplicate) and the reader reports every duplicate with the other errors.
/// </summary>
internal sealed class DuplicateKeyParser(IParser inner) : IParser
{
    /// <summary>Prefix of a renamed duplicate key; no YAML key a user writes starts with a NUL.</summary>
    public const string Marker = "\0duplicate\0";

    private readonly Stack<Collection> _open = new();
    private ParsingEvent? _current;
    private int _renamed;

    private sealed class Collection(bool isMapping)
    {
        public bool IsMapping { get; } = isMapping;
        public bool ExpectingKey = true;
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }

    public ParsingEvent? Current => _current;

    public bool MoveNext()
    {
        if (!inner.MoveNext())
        {
            _current = null;
            return false;
        }
        _current = inner.Current;
        switch (_current)
        {
            case MappingStart:
                NodeStarts();
                _open.Push(new Collection(isMapping: true));
                break;
            case SequenceStart:
                NodeStarts();
                _open.Push(new Collection(isMapping: false));
                break;
            case MappingEnd or SequenceEnd:
                _open.Pop();
                break;
            case Scalar scalar when _open.TryPeek(out var mapping) && mapping.IsMapping && mapping.ExpectingKey:
                if (!mapping.Keys.Add(scalar.Value))
                    _current = new Scalar(scalar.Anchor, scalar.Tag, $"{Marker}{++_renamed}\0{scalar.Value}", scalar.Style, scalar.IsPlainImplicit, scalar.IsQuotedImplicit, scalar.Start, scalar.End);
                mapping.ExpectingKey = false;
                break;
            case Scalar or AnchorAlias:
                NodeStarts();
                break;
        }
        return true;
    }

    /// <summary>A node begins: in a mapping, a key is followed by its value and a value by the next key.</summary>
    private void NodeStarts()
    {
        if (_open.TryPeek(out var parent) && parent.IsMapping) parent.ExpectingKey = !parent.ExpectingKey;
    }
}
