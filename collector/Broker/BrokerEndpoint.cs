using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Broker;

/// <summary>
/// Where the broker is: the configured host and port, or, in the demo when the configured port is
/// taken (a system Mosquitto on 1883, say), a free port chosen at start.
/// </summary>
public sealed class BrokerEndpoint
{
    public BrokerEndpoint(IOptions<CollectorOptions> options)
    {
        var broker = options.Value.Broker;
        Host = broker.Host;
        Port = broker.Port;
        if (broker.Embedded && (Port == 0 || (options.Value.Demo.Enabled && !IsFree(IPAddress.Parse(broker.BindAddress), Port))))
        {
            Port = FreePort(IPAddress.Parse(broker.BindAddress));
        }
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary><c>mqtt://host:port</c></summary>
    public string Address => $"mqtt://{Host}:{Port}";

    public static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
