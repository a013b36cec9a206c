namespace NewTechPark.Edge.Collector.Broker;

/// <summary>
/// The embedded broker's port (plain or TLS) is taken by another program, often a second collector.
/// The collector refuses to start (exit 2) instead of sharing the port: with SO_REUSEPORT the
/// kernel would split the devices between two collectors and two databases.
/// </summary>
public sealed class BrokerPortInUseException(string setting, string address, int port)
    : Exception($"{setting}: port {port} on {address} is already in use by another program (another collector or MQTT broker?). Stop it, or choose another port.")
{
    public string Setting { get; } = setting;

    public int Port { get; } = port;
}
