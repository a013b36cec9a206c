using System.Net;

namespace NewTechPark.Edge.Collector.Broker.Transport;

/// <summary>
/// Counts the broker's open sockets, in total and per remote address, and admits a new one only
/// under both caps. Counts sockets, not devices: before login nobody is known yet.
/// </summary>
public sealed class ConnectionLimiter(int maxConnections, int maxPerAddress)
{
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private int _total;

    public int Open
    {
        get
        {
            lock (_perAddress)
            {
                return _total;
            }
        }
    }

    /// <summary>Takes a place for a socket from <paramref name="address"/>; null when admitted, else the refusal's reason.</summary>
    public string? TryAdmit(IPAddress address)
    {
        address = Normalise(address);
        lock (_perAddress)
        {
            if (_total >= maxConnections)
            {
                return "too_many_connections";
            }

            var mine = _perAddress.GetValueOrDefault(address);
            if (mine >= maxPerAddress)
            {
                return "too_many_from_address";
            }

            _perAddress[address] = mine + 1;
            _total++;
            return null;
        }
    }

    /// <summary>Gives back the place of a socket that <see cref="TryAdmit"/> admitted.</summary>
    public void Release(IPAddress address)
    {
        address = Normalise(address);
        lock (_perAddress)
        {
            var mine = _perAddress.GetValueOrDefault(address);
            if (mine <= 1)
            {
                _perAddress.Remove(address);
            }
            else
            {
                _perAddress[address] = mine - 1;
            }

            _total--;
        }
    }

    /// <summary>An IPv4 peer on a dual-stack socket (::ffff:10.0.0.5) is the same address as 10.0.0.5.</summary>
    public static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
