namespace OtelAi.Engine.Config;

/// <summary>
/// A component config whose component listens on network endpoints: validation refuses two listeners on one port
/// (the second would fail at start, after the first had started).
/// </summary>
public interface IListenEndpoints
{
    /// <summary>Each endpoint (host:port) with its key path below the component, e.g. ("protocols.grpc.endpoint", "localhost:4317").</summary>
    IEnumerable<(string KeyPath, string Endpoint)> ListenEndpoints();
}
