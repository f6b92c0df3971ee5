using System.Net;
using System.Net.Sockets;

namespace OtelAi.TestSupport;

public static class TestPorts
{
    // Below Linux's ephemeral range (32768-60999): a port the OS hands out for listening sockets can be taken by
    // any outgoing connection before the test binds it, and the tests open many. Each test process starts at its own
    // random place in the range, so processes running side by side rarely try the same ports.
    private const int First = 20_000;
    private const int Count = 12_000;
    private static int _next = Random.Shared.Next(Count);

    /// <summary>A loopback TCP port, outside the ephemeral range, that was free a moment ago.</summary>
    public static int GetFree()
    {
        for (var attempt = 0; attempt < Count; attempt++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // In use: the next one.
            }
        }
        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }
}
