using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>
/// systemd's service watchdog: sends <c>WATCHDOG=1</c> at half the unit's <c>WatchdogSec</c>
/// (systemd passes it as <c>WATCHDOG_USEC</c>) while every loop of the agent makes progress
/// (<see cref="LoopHeartbeats"/>), and withholds it once one has been stuck for a whole
/// <c>WatchdogSec</c>, so systemd restarts an agent whose reader or publisher hangs. Outside
/// systemd, or without a watchdog, it does nothing at all. The kernel's own hang is the hardware
/// watchdog's (RuntimeWatchdogSec, hardware/pi-setup.md).
/// </summary>
public sealed class SystemdWatchdog(
    TimeProvider clock,
    LoopHeartbeats loops,
    SystemdWatchdogSetup setup,
    IHostApplicationLifetime lifetime,
    ILogger<SystemdWatchdog> logger) : BackgroundService
{
    private static readonly ServiceState Ping = new("WATCHDOG=1");

    private long _pings;
    private long _withheld;

    /// <summary>Pings sent since start.</summary>
    public long Pings => Interlocked.Read(ref _pings);

    /// <summary>Pings withheld because a loop was stuck.</summary>
    public long Withheld => Interlocked.Read(ref _withheld);

    /// <summary>The ping interval for a <c>WATCHDOG_USEC</c> value; null when there is no watchdog.</summary>
    public static TimeSpan? IntervalOf(string? watchdogUsec) =>
        SystemdWatchdogSetup.TimeoutOf(watchdogUsec) is { } timeout ? timeout / 2 : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (setup is not { Timeout: { } timeout, Notifier: { } notifier })
        {
            return;
        }

        // After READY=1 (sent by the systemd lifetime once the host has started): the start-up is
        // TimeoutStartSec's to watch.
        await WhenStartedAsync(stoppingToken).ConfigureAwait(false);
        var interval = timeout / 2;
        logger.LogInformation("systemd watchdog: WATCHDOG=1 every {Interval} while every loop makes progress; a loop stuck for {Limit} stops it", interval, timeout);
        using var timer = new PeriodicTimer(interval, clock);
        var withholding = false;
        do
        {
            // A whole WatchdogSec of work without a wait is a hang: longer than any I2C transfer,
            // outbox commit or MQTT publish (10 s timeout) takes. Then systemd restarts the agent
            // at most one more WatchdogSec later.
            var stale = loops.Stale(timeout);
            if (stale.Count == 0)
            {
                notifier.Notify(Ping);
                Interlocked.Increment(ref _pings);
                if (withholding)
                {
                    withholding = false;
                    logger.LogWarning("systemd watchdog: every loop makes progress again; WATCHDOG=1 resumes");
                }
            }
            else
            {
                Interlocked.Increment(ref _withheld);
                if (!withholding)
                {
                    // Once per episode: the journal says which loop and for how long, then systemd acts.
                    withholding = true;
                    logger.LogError("systemd watchdog: withholding WATCHDOG=1, systemd restarts the agent within {Timeout}: {Stale} made no progress",
                        timeout, string.Join(", ", stale.Select(s => $"{s.Loop} (for {s.Busy.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s)")));
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task.ConfigureAwait(false);
        }
    }
}

/// <summary>
/// What systemd gave the agent for its watchdog: the timeout (<c>WATCHDOG_USEC</c>) and where to
/// send the pings (<c>NOTIFY_SOCKET</c>). Either missing: no watchdog.
/// </summary>
/// <param name="Timeout">The unit's WatchdogSec; null: no watchdog.</param>
/// <param name="Notifier">Where <c>WATCHDOG=1</c> goes; null: not under systemd.</param>
public sealed record SystemdWatchdogSetup(TimeSpan? Timeout, ISystemdNotifier? Notifier)
{
    /// <summary>
    /// As sd_watchdog_enabled(3) reads the environment: <c>WATCHDOG_USEC</c>, for this process
    /// only when <c>WATCHDOG_PID</c> is set (a child that inherited the variables is not watched).
    /// The notifier is the one AddSystemd registered under systemd, else one for
    /// <c>NOTIFY_SOCKET</c>: sd_notify's contract is the socket, not who the parent is.
    /// </summary>
    public static SystemdWatchdogSetup FromEnvironment(ISystemdNotifier? registered)
    {
        var timeout = TimeoutOf(Environment.GetEnvironmentVariable("WATCHDOG_USEC"));
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            timeout = null;
        }

        if (timeout is null)
        {
            return new SystemdWatchdogSetup(null, null);
        }

        ISystemdNotifier? notifier = registered is { IsEnabled: true } ? registered : null;
        if (notifier is null && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            notifier = new SystemdNotifier();
        }

        return new SystemdWatchdogSetup(notifier is null ? null : timeout, notifier);
    }

    /// <summary>The shortest timeout taken: a timer cannot tick faster than every millisecond.</summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(20);

    /// <summary>The longest: beyond a day a watchdog watches nothing useful (and a timer's period is bounded).</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    /// <summary>
    /// A <c>WATCHDOG_USEC</c> value as a timeout: a positive whole number of microseconds, kept
    /// within <see cref="MinTimeout"/> and <see cref="MaxTimeout"/>; anything else: none.
    /// </summary>
    public static TimeSpan? TimeoutOf(string? watchdogUsec)
    {
        if (!ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec == 0)
        {
            return null;
        }

        var timeout = usec >= (ulong)MaxTimeout.TotalMicroseconds ? MaxTimeout : TimeSpan.FromMicroseconds(usec);
        return timeout < MinTimeout ? MinTimeout : timeout;
    }
}
