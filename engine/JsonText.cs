using System.Text;
using System.Text.Json;

namespace OtelAi.Engine;

/// <summary>JSON built with a <see cref="Utf8JsonWriter"/> (no reflection: the executable may be Native AOT), as a string.</summary>
internal static class JsonText
{
    public static string Of(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
