using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Broker;

/// <summary>
/// Where the broker is: the configured host and port, or a free port chosen at start when the
/// embedded broker's port is 0 (the demo asks for that when 1883 is taken).
/// </summary>
public sealed class BrokerEndpoint
{
    public BrokerEndpoint(IOptions<CollectorOptions> options)
    {
        var broker = options.Value.Broker;
        Host = broker.Host;
        Port = broker.Port;
        if (broker.Embedded && Port == 0)
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

    /// <summary>Whether a listener could bind this address and port now.</summary>
    public static bool IsFree(IPAddress address, int port)
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
