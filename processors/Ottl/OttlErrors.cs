namespace OtelAi.Processors.Ottl;

/// <summary>
/// A statement or condition that cannot be compiled: bad syntax, unknown function, path or enum, wrong arguments.
/// The message shows the statement with a caret under the offending column.
/// </summary>
public sealed class OttlCompileException : Exception
{
    public OttlCompileException(string text, int position, string problem)
        : base(Format(text, position, problem))
    {
        Text = text;
        Column = position + 1;
        Problem = problem;
    }

    public string Text { get; }

    /// <summary>1-based column of the problem in <see cref="Text"/>.</summary>
    public int Column { get; }

    public string Problem { get; }

    private static string Format(string text, int position, string problem)
    {
        var column = Math.Clamp(position, 0, text.Length);
        return $"{problem} at column {column + 1}\n  {text}\n  {new string(' ', column)}^";
    }
}

/// <summary>A failure while executing a compiled statement on one item (type mismatch, bad input); handled per error_mode.</summary>
public sealed class OttlRuntimeException(string message) : Exception(message);

/// <summary>otelcol's error_mode for OTTL-based processors.</summary>
public enum ErrorMode
{
    /// <summary>Log the error and continue with the next statement.</summary>
    Ignore,

    /// <summary>Continue with the next statement without logging.</summary>
    Silent,

    /// <summary>Refuse the payload: the sender gets a permanent (400 / INVALID_ARGUMENT) error.</summary>
    Propagate,
}
