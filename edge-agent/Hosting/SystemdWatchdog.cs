using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>
/// Sends systemd's <c>WATCHDOG=1</c> at half the unit's <c>WatchdogSec</c> (systemd passes it as
/// <c>WATCHDOG_USEC</c>), so an agent whose threads hang is restarted. Does nothing outside systemd
/// or without a watchdog. The kernel's own hang is the hardware watchdog's (RuntimeWatchdogSec).
/// </summary>
/// <remarks>AddSystemd registers <see cref="ISystemdNotifier"/> only under systemd, hence optional.</remarks>
public sealed class SystemdWatchdog(TimeProvider clock, ISystemdNotifier? notifier = null) : BackgroundService
{
    private static readonly ServiceState Ping = new("WATCHDOG=1");

    /// <summary>The ping interval for a <c>WATCHDOG_USEC</c> value; null when there is no watchdog.</summary>
    public static TimeSpan? IntervalOf(string? watchdogUsec) =>
        long.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0
            ? TimeSpan.FromMicroseconds(usec / 2.0)
            : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (notifier is not { IsEnabled: true } || IntervalOf(Environment.GetEnvironmentVariable("WATCHDOG_USEC")) is not { } interval)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            notifier.Notify(Ping);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
