using System.Net;
using System.Net.Sockets;

namespace OtelAi.TestSupport;

public static class TestPorts
{
    /// <summary>A loopback TCP port that was free a moment ago (the OS picked it).</summary>
    public static int GetFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
