using Google.Protobuf;

namespace OtelAi.Otlp;

/// <summary>What a parse of untrusted request bytes may throw when the bytes are no valid request.</summary>
public static class MalformedRequest
{
    /// <summary>
    /// True for <see cref="InvalidProtocolBufferException"/> and for what Google.Protobuf throws instead on some lying
    /// lengths (a length near 2^31 gives IndexOutOfRangeException: an open upstream bug): all of them mean 400 /
    /// INVALID_ARGUMENT for the client, never a 500.
    /// </summary>
    public static bool Is(Exception exception) =>
        exception is InvalidProtocolBufferException or IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException;
}
