using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MQTTnet;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Health;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Schema;
using Spectre.Console;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>One check of <c>collector doctor</c>: its name, <c>ok</c>, <c>warning</c>, <c>problem</c> or <c>skipped</c>, and why.</summary>
public sealed record DoctorCheck(string Name, string Status, string Reason);

/// <summary>What <c>collector doctor --json</c> prints: the worst status, the exit code and every check.</summary>
public sealed record DoctorReport(string Status, int ExitCode, DateTimeOffset Checked, IReadOnlyList<DoctorCheck> Checks);

/// <summary>
/// <c>collector doctor</c>: checks what a collector needs, with or without it running, and changes
/// nothing (the store is opened read-only, the broker gets one anonymous CONNECT that it refuses).
/// Exit code 0 when all is well, 1 on a warning or problem, 2 when the settings are not valid
/// (then nothing else is checked: the other checks read them).
/// </summary>
public static class DoctorCommand
{
    public const string Ok = "ok";
    public const string Warning = "warning";
    public const string Problem = "problem";
    public const string Skipped = "skipped";

    /// <summary>The WAL the collector keeps under this after a burst (README's targets); more means checkpoints are starved.</summary>
    public const long WalWarningBytes = 64L * 1024 * 1024;

    /// <summary>The contract refuses readings dated further ahead than this; a stored one means a clock was wrong.</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    /// <summary>A stored arrival time this far past the clock means the clock went back since.</summary>
    public static readonly TimeSpan ArrivalTolerance = TimeSpan.FromMinutes(1);

    /// <summary>Devices named in a finding at most; the JSON and the table stay short on a large site.</summary>
    public const int MaxNamed = 10;

    public static Command Create(SettingsArguments settings)
    {
        var full = new Option<bool>("--full") { Description = "SQLite's integrity_check instead of quick_check: also every index against its table (minutes on a large store)." };
        var json = new Option<bool>("--json") { Description = "JSON for monitoring instead of a table." };
        var timeout = new Option<TimeSpan>("--timeout") { Description = "How long the broker gets to answer.", DefaultValueFactory = _ => TimeSpan.FromSeconds(3), HelpName = "hh:mm:ss" };
        timeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<TimeSpan>() is var t && (t <= TimeSpan.Zero || t > TimeSpan.FromMinutes(1)))
            {
                r.AddError("--timeout must be above 00:00:00 and at most 00:01:00");
            }
        });
        var skip = new Option<string[]>("--skip") { Description = "Leave checks out (repeat it): site, store, disk, broker, devices, clock or ntp (a broker not up yet, NTP where another service keeps time).", HelpName = "CHECK", AllowMultipleArgumentsPerToken = true };
        skip.AcceptOnlyFromAmong(Skippable);
        var command = new Command("doctor", "Check settings, site file, store, free disk, broker, devices and clock. Exit code 0 all well, 1 a warning or problem, 2 settings not valid.") { full, json, timeout, skip };
        command.SetAction(async (parse, cancel) =>
        {
            var report = await RunAsync(settings, parse.GetValue(full), parse.GetValue(timeout), parse.GetValue(skip) ?? [], parse.InvocationConfiguration.Error, cancel).ConfigureAwait(false);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(report, CommandLineJsonContext.Readable.DoctorReport)).ConfigureAwait(false);
            }
            else
            {
                Write(report, output);
            }

            return report.ExitCode;
        });
        return command;
    }

    /// <summary>The checks <c>--skip</c> takes (the settings are always checked: every other check reads them).</summary>
    public static readonly string[] Skippable = ["site", "store", "disk", "broker", "devices", "clock", "ntp"];

    public static async Task<DoctorReport> RunAsync(SettingsArguments settings, bool full, TimeSpan timeout, IReadOnlyCollection<string> skip, TextWriter progress, CancellationToken cancel)
    {
        var now = DateTimeOffset.UtcNow;
        CommandSettings loaded;
        try
        {
            loaded = CommandSettings.Load(settings, validate: true);
        }
        catch (SettingsRefusedException e)
        {
            return Report(now, [new DoctorCheck("settings", Problem, string.Join("; ", e.Problems))], settingsInvalid: true);
        }

        using (loaded)
        {
            var options = loaded.Options;
            var checks = new List<DoctorCheck> { new("settings", Ok, "valid (the same checks as a start)") };
            var site = loaded.TrySite(out var siteProblem);
            checks.Add(site is null
                ? new DoctorCheck("site file", Problem, siteProblem ?? "not readable")
                : new DoctorCheck("site file", Ok, $"{site.Name} ({site.Site}): {site.Rooms.Count} rooms, {site.Devices.Count()} devices, {site.Sensors.Count + site.Doors.Count + site.Meters.Count} sensors"));

            var file = StoreInspection.FileOf(options.DataDirectory);
            if (full && !Console.IsErrorRedirected)
            {
                await progress.WriteLineAsync($"integrity_check of {file} (minutes on a large store) …").ConfigureAwait(false);
            }

            checks.AddRange(StoreChecks(file, full, site, options, now));
            checks.Add(DiskCheck(options));
            // The two that wait on something else are not even run when left out.
            checks.Add(skip.Contains("broker") ? new DoctorCheck("broker", Skipped, "") : await BrokerCheckAsync(options.Broker, timeout, cancel).ConfigureAwait(false));
            checks.Add(skip.Contains("ntp") ? new DoctorCheck("ntp", Skipped, "") : await NtpCheckAsync(cancel).ConfigureAwait(false));
            // Skipped checks are still listed, so a monitor sees what it was not told.
            var skipped = checks.Select(c => skip.Contains(KeyOf(c.Name), StringComparer.Ordinal) ? c with { Status = Skipped, Reason = "left out (--skip)" } : c).ToList();
            return Report(now, skipped, settingsInvalid: false);
        }
    }

    private static string KeyOf(string name) => name switch
    {
        "site file" => "site",
        "schema" or "store size" => "store",
        _ => name,
    };

    private static DoctorReport Report(DateTimeOffset now, List<DoctorCheck> checks, bool settingsInvalid)
    {
        var worst = checks.Any(c => c.Status == Problem) ? Problem : checks.Any(c => c.Status == Warning) ? Warning : Ok;
        var exit = settingsInvalid ? CollectorCommandLine.Invalid : worst == Ok ? 0 : 1;
        return new DoctorReport(worst, exit, now, checks);
    }

    private static IEnumerable<DoctorCheck> StoreChecks(string file, bool full, SiteModel? site, CollectorOptions options, DateTimeOffset now)
    {
        StoreInspection? store;
        try
        {
            store = StoreInspection.Open(file);
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            return [new DoctorCheck("store", Problem, $"{file} cannot be opened: {e.Message}")];
        }

        if (store is null)
        {
            return [new DoctorCheck("store", Warning, $"no store at {Path.GetFullPath(file)} yet (the collector makes it at its first start; is Collector:DataDirectory right?)")];
        }

        using (store)
        {
            var checks = new List<DoctorCheck>();
            try
            {
                var problems = store.Check(full);
                var check = full ? "integrity_check" : "quick_check";
                checks.Add(problems.Count == 0
                    ? new DoctorCheck("store", Ok, $"{check} ok: {Path.GetFullPath(file)}")
                    : new DoctorCheck("store", Problem, $"{check} found {(problems.Count >= StoreInspection.MaxProblems ? "at least " : "")}{problems.Count} problem(s): {string.Join("; ", problems.Take(3))} (stop the collector and restore a backup)"));

                var version = store.SchemaVersion();
                checks.Add(version == StoreMigrations.Current ? new DoctorCheck("schema", Ok, $"version {version}, this collector's")
                    : version < StoreMigrations.Current ? new DoctorCheck("schema", Warning, $"version {version}: this collector upgrades it to {StoreMigrations.Current} at its next start")
                    : new DoctorCheck("schema", Problem, $"version {version}, written by a newer collector (this one knows up to {StoreMigrations.Current}): it will not start on it"));

                var size = new FileInfo(file).Length;
                var wal = File.Exists(file + "-wal") ? new FileInfo(file + "-wal").Length : 0;
                checks.Add(new DoctorCheck("store size", wal > WalWarningBytes ? Warning : Ok,
                    $"{Bytes(size)}, WAL {Bytes(wal)}" + (wal > WalWarningBytes ? $" (above {Bytes(WalWarningBytes)}: checkpoints do not keep up, or a reader holds an old snapshot)" : "")));

                checks.Add(DevicesCheck(store, site, options.Notifications.OfflineAfter, now));
                checks.Add(ClockCheck(store, now));
            }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                checks.Add(new DoctorCheck("store", Problem, $"{file} cannot be read: {e.Message}"));
            }

            return checks;
        }
    }

    private static DoctorCheck DevicesCheck(StoreInspection store, SiteModel? site, TimeSpan offlineAfter, DateTimeOffset now)
    {
        if (site is null)
        {
            return new DoctorCheck("devices", Skipped, "no site file");
        }

        var seen = store.Devices(site.Site).ToDictionary(d => d.Device, StringComparer.Ordinal);
        var devices = site.Devices.Order(StringComparer.Ordinal).ToList();
        var offline = new List<string>();
        foreach (var device in devices)
        {
            if (!seen.TryGetValue(device, out var row))
            {
                offline.Add($"{device} (never seen)");
            }
            else if (now - row.LastSeen > offlineAfter || row.State == "offline")
            {
                offline.Add($"{device} ({(row.State == "offline" ? "said offline, " : "")}last seen {Ago(now - row.LastSeen)} ago)");
            }
        }

        var limit = $"offline after {Ago(offlineAfter)} of silence, Collector:Notifications:OfflineAfter";
        return offline.Count == 0
            ? new DoctorCheck("devices", devices.Count == 0 ? Warning : Ok, devices.Count == 0 ? "the site file names no device" : $"all {devices.Count} online ({limit})")
            : new DoctorCheck("devices", Warning, $"{offline.Count} of {devices.Count} offline: {string.Join(", ", offline.Take(MaxNamed))}{(offline.Count > MaxNamed ? $", and {offline.Count - MaxNamed} more" : "")} ({limit})");
    }

    private static DoctorCheck ClockCheck(StoreInspection store, DateTimeOffset now)
    {
        var reading = store.NewestReading();
        var arrival = store.NewestArrival();
        if (reading is { } r && r - now > FutureTolerance)
        {
            return new DoctorCheck("clock", Problem, $"a stored reading is dated {Ago(r - now)} after this machine's clock ({r:u}): this clock is behind, or was ahead when the reading came in");
        }

        if (arrival is { } a && a - now > ArrivalTolerance)
        {
            return new DoctorCheck("clock", Problem, $"the store took a message at {a:u}, {Ago(a - now)} after this machine's clock: the clock went back since");
        }

        return new DoctorCheck("clock", Ok, reading is { } newest ? $"newest reading {newest:u}, not ahead of this clock ({now:u})" : $"no readings stored yet; clock {now:u}");
    }

    private static DoctorCheck DiskCheck(CollectorOptions options)
    {
        var folder = Path.GetFullPath(options.DataDirectory);
        if (!Directory.Exists(folder))
        {
            return new DoctorCheck("disk", Skipped, $"{folder} does not exist yet");
        }

        var space = new DriveFreeSpace().Of(folder);
        var health = options.Health;
        var text = $"{Bytes(space.FreeBytes)} free of {Bytes(space.TotalBytes)} ({space.FreePercent.ToString("0.#", CultureInfo.InvariantCulture)} %) at {folder}";
        return space.FreeBytes < health.DiskUnhealthyBytes ? new DoctorCheck("disk", Problem, $"{text}: below {Bytes(health.DiskUnhealthyBytes)} (Collector:Health:DiskUnhealthyBytes), commits may fail")
            : space.FreePercent < health.DiskDegradedPercent ? new DoctorCheck("disk", Warning, $"{text}: below {health.DiskDegradedPercent} % (Collector:Health:DiskDegradedPercent)")
            : new DoctorCheck("disk", Ok, text);
    }

    /// <summary>
    /// One MQTT CONNECT with a short timeout: any CONNACK means a broker answers (the embedded one
    /// refuses the anonymous probe by design); no answer or a refused socket is the finding.
    /// </summary>
    private static async Task<DoctorCheck> BrokerCheckAsync(EmbeddedBrokerOptions broker, TimeSpan timeout, CancellationToken cancel)
    {
        var host = broker.Embedded ? (broker.BindAddress is "0.0.0.0" or "::" or "*" ? "127.0.0.1" : broker.BindAddress) : broker.Host;
        if (broker.Port == 0)
        {
            return new DoctorCheck("broker", Skipped, "Collector:Broker:Port is 0 (a free port picked at each start): nothing to probe");
        }

        var which = broker.Embedded ? "embedded broker" : "outside broker";
        var options = new MqttClientOptionsBuilder().WithTcpServer(host, broker.Port).WithClientId("ntp-doctor-" + Guid.NewGuid().ToString("N")[..8]).WithTimeout(timeout).WithCleanStart();
        if (!broker.Embedded && !string.IsNullOrEmpty(broker.Username))
        {
            options.WithCredentials(broker.Username, broker.Password);
        }

        using var client = new MqttClientFactory().CreateMqttClient();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        wait.CancelAfter(timeout);
        try
        {
            var result = await client.ConnectAsync(options.Build(), wait.Token).ConfigureAwait(false);
            if (result.ResultCode == MqttClientConnectResultCode.Success)
            {
                await client.DisconnectAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
                return new DoctorCheck("broker", Ok, broker.Embedded || string.IsNullOrEmpty(broker.Username)
                    ? $"{which} at {host}:{broker.Port} answers"
                    : $"{which} at {host}:{broker.Port} answers; the collector's login works");
            }

            return broker.Embedded || string.IsNullOrEmpty(broker.Username)
                ? new DoctorCheck("broker", Ok, $"{which} at {host}:{broker.Port} answers (it refused the anonymous probe: {result.ResultCode})")
                : new DoctorCheck("broker", Problem, $"{which} at {host}:{broker.Port} refused the collector's login (Collector:Broker:Username): {result.ResultCode}");
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or System.Net.Sockets.SocketException or TimeoutException)
        {
            if (client.IsConnected)
            {
                // Refused after the CONNACK (MQTTnet throws on some reason codes): the broker answered.
                return new DoctorCheck("broker", Ok, $"{which} at {host}:{broker.Port} answers");
            }

            var why = cancel.IsCancellationRequested ? "cancelled" : e is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0.#} s" : Innermost(e).Message;
            return new DoctorCheck("broker", broker.Embedded ? Warning : Problem,
                broker.Embedded ? $"nothing answers at {host}:{broker.Port} ({why}): the collector is not running, or another program holds the port"
                    : $"{which} at {host}:{broker.Port} does not answer ({why})");
        }
    }

    /// <summary>NTP from systemd-timesyncd or chrony through timedatectl, or timesyncd's flag file; skipped where neither exists.</summary>
    private static async Task<DoctorCheck> NtpCheckAsync(CancellationToken cancel)
    {
        var timedatectl = new[] { "/usr/bin/timedatectl", "/bin/timedatectl" }.FirstOrDefault(File.Exists);
        if (timedatectl is not null)
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(timedatectl, ["show", "--property=NTPSynchronized", "--value"])
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                })!;
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                wait.CancelAfter(TimeSpan.FromSeconds(3));
                var output = process.StandardOutput.ReadToEndAsync(wait.Token);
                try
                {
                    await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill();
                    throw;
                }

                var answer = (await output.ConfigureAwait(false)).Trim();
                if (process.ExitCode == 0 && answer is "yes" or "no")
                {
                    return answer == "yes"
                        ? new DoctorCheck("ntp", Ok, "the system clock is synchronised (timedatectl)")
                        : new DoctorCheck("ntp", Warning, "the system clock is not synchronised by NTP (timedatectl): readings and reports follow this clock; see hardware/ for timesyncd");
                }
            }
            catch (Exception e) when (e is OperationCanceledException or System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                // No systemd here (a container): fall through to the flag file.
            }
        }

        if (File.Exists("/run/systemd/timesync/synchronized"))
        {
            return new DoctorCheck("ntp", Ok, "the system clock is synchronised (systemd-timesyncd)");
        }

        return new DoctorCheck("ntp", Skipped, "not known here (no answer from timedatectl, no /run/systemd/timesync/synchronized)");
    }

    public static void Write(DoctorReport report, TextWriter output)
    {
        var table = Terminal.Table(output, "CHECK", "STATUS", "REASON");
        foreach (var c in report.Checks)
        {
            var status = c.Status switch { Ok => "[green]ok[/]", Warning => "[yellow]warning[/]", Problem => "[red]problem[/]", var s => Markup.Escape(s) };
            table.AddRow(Markup.Escape(c.Name), status, Markup.Escape(c.Reason));
        }

        var console = Terminal.Create(output);
        console.Write(table);
        console.WriteLine(report.ExitCode switch
        {
            0 => "All well.",
            2 => "The settings are not valid: the collector would not start.",
            _ => $"{report.Checks.Count(c => c.Status == Problem)} problem(s), {report.Checks.Count(c => c.Status == Warning)} warning(s).",
        });
    }

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{(bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture)} GiB",
        >= 1L << 20 => $"{(bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
        >= 1L << 10 => $"{(bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture)} KiB",
        _ => $"{bytes} B",
    };

    private static string Ago(TimeSpan span) => span.TotalDays >= 2 ? $"{(int)span.TotalDays} d"
        : span.TotalHours >= 2 ? $"{(int)span.TotalHours} h"
        : span.TotalMinutes >= 2 ? $"{(int)span.TotalMinutes} min"
        : $"{Math.Max(0, (int)span.TotalSeconds)} s";
}
