using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Metrics;

namespace NewTechPark.Edge.Collector.Live;

/// <summary>Why a stream client was not let in.</summary>
public enum StreamRefusal
{
    None,

    /// <summary><c>Collector:Stream:MaxClientsPerAddress</c> streams are open from the client's address (429).</summary>
    PerAddress,

    /// <summary><c>Collector:Stream:MaxClients</c> streams are open in all (503).</summary>
    Total,
}

/// <summary>Counts the open streams, per client address and in total, and refuses past the caps (counted, logged once per interval).</summary>
public sealed class StreamClients(IOptions<CollectorOptions> options, CollectorMetrics metrics, TimeProvider clock, ILogger<StreamClients> logger)
{
    private readonly StreamOptions _options = options.Value.Stream;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _perAddress = new(StringComparer.Ordinal);
    private readonly LogThrottle _refusals = new(clock, TimeSpan.FromSeconds(10));
    private int _total;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Lets a client in (then <see cref="Release"/> it when its stream ends), or says why not.</summary>
    public StreamRefusal TryAdmit(string address)
    {
        StreamRefusal refusal;
        lock (_gate)
        {
            var fromAddress = _perAddress.GetValueOrDefault(address);
            refusal = _total >= _options.MaxClients ? StreamRefusal.Total
                : fromAddress >= _options.MaxClientsPerAddress ? StreamRefusal.PerAddress
                : StreamRefusal.None;
            if (refusal == StreamRefusal.None)
            {
                _perAddress[address] = fromAddress + 1;
                _total++;
                metrics.StreamClients.Set(_total);
                return refusal;
            }
        }

        metrics.StreamRefused.WithLabels(refusal == StreamRefusal.Total ? "total" : "per_address").Inc();
        if (_refusals.TryTake(out var held))
        {
            logger.LogWarning("Refused a stream client from {Address}: {Reason} ({Held} more refusals since the last line)",
                address,
                refusal == StreamRefusal.Total
                    ? $"{_options.MaxClients} streams are open (Collector:Stream:MaxClients)"
                    : $"{_options.MaxClientsPerAddress} streams are open from this address (Collector:Stream:MaxClientsPerAddress)",
                held);
        }

        return refusal;
    }

    public void Release(string address)
    {
        lock (_gate)
        {
            var left = _perAddress.GetValueOrDefault(address) - 1;
            if (left <= 0)
            {
                _perAddress.Remove(address);
            }
            else
            {
                _perAddress[address] = left;
            }

            _total--;
            metrics.StreamClients.Set(_total);
        }
    }
}
