namespace OtelAi.Otlp;

/// <summary>Data that will never be accepted (malformed, rejected by the backend): not to be retried.</summary>
public sealed class PermanentDataException : Exception
{
    public PermanentDataException(string message, Exception? inner = null) : base(message, inner) { }
}
