using System.Net;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Collector.Metrics;

namespace NewTechPark.Edge.Collector.Broker.Transport;

/// <summary>
/// What the broker's network layer refused: every refusal is counted
/// (<c>ntp_broker_refused_total{action="connection"|"connect"|"packet"}</c>), and logged at most once
/// per remote address per interval with how many more there were, since a flood of sockets would
/// otherwise flood the log as well.
/// </summary>
public sealed class TransportRefusals(CollectorMetrics metrics, TimeProvider clock, ILogger logger)
{
    /// <summary>As the broker's own refusals (<see cref="EmbeddedBroker"/>).</summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly LogThrottle<IPAddress> _log = new(clock, LogInterval);

    /// <summary>
    /// Counts one refusal and logs it unless its address was logged within the interval.
    /// <paramref name="action"/>: <c>connection</c> (a socket turned away), <c>connect</c> (before login), <c>packet</c> (after login).
    /// </summary>
    public void Refuse(IPAddress address, string action, string reason, string text)
    {
        metrics.BrokerRefused.WithLabels(action, reason).Inc();
        if (!_log.TryTake(address, out var suppressed))
        {
            return;
        }

        logger.LogWarning("Broker refused a connection from {Remote} ({Reason}): {Text}{Suppressed}",
            address, reason, text, suppressed > 0 ? $" ({suppressed} more refusals from this address since the last line)" : string.Empty);
    }
}
