using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>One device as <c>collector devices list --json</c> gives it.</summary>
public sealed record DeviceListing(
    string Device,
    IReadOnlyList<string> Rooms,
    bool InSiteFile,
    string? Login,
    bool Reader,
    DateTimeOffset? LastSeen,
    string State);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(IReadOnlyList<DeviceListing>))]
[JsonSerializable(typeof(DoctorReport))]
public sealed partial class CommandLineJsonContext : JsonSerializerContext
{
    /// <summary>Apostrophes and accents written as they are: the output is read by people and scripts, never put into HTML.</summary>
    public static CommandLineJsonContext Readable { get; } = new(new JsonSerializerOptions
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    });
}

/// <summary>
/// <c>collector devices add|list|remove|hash-password</c>: the devices of the site file and their
/// logins in the embedded broker's password file (<c>Collector:Broker:PasswordFile</c>, or
/// <c>--password-file</c>), which the running collector reads again by itself
/// (<see cref="PasswordFileReload"/>) and Mosquitto on SIGHUP.
/// </summary>
public static class DevicesCommand
{
    /// <summary>A password line on standard input longer than this is not a password.</summary>
    public const int MaxPasswordChars = 1024;

    public static Command Create(SettingsArguments settings)
    {
        var command = new Command("devices", "The devices of the site and their broker logins (the password file of Collector:Broker:PasswordFile).");
        command.Add(CreateAdd(settings));
        command.Add(CreateList(settings));
        command.Add(CreateRemove(settings));
        command.Add(CreateHashPassword());
        command.Add(CreateAcl(settings));
        return command;
    }

    /// <summary><c>devices acl [--out FILE]</c>: Mosquitto's ACL file for the owned sites (<see cref="MosquittoAcl"/>).</summary>
    private static Command CreateAcl(SettingsArguments settings)
    {
        var output = new Option<string?>("--out") { Description = "Write the ACL to this file (replaced whole) instead of standard output.", HelpName = "FILE" };
        var command = new Command("acl", "Mosquitto's ACL file for the sites of the settings (Collector:Sites or Collector:SiteFile): the collector reads its own sites, each device only its own topics.") { output };
        command.SetAction(parse => CollectorCommandLine.Guard(parse, error =>
        {
            using var loaded = CommandSettings.Load(settings, validate: false);
            var options = loaded.Options;
            SiteCatalog sites;
            try
            {
                sites = SiteCatalogLoader.Load(options);
            }
            catch (SiteFileException e)
            {
                error.WriteLine($"acl: {e.Message}");
                return CollectorCommandLine.Invalid;
            }

            var acl = MosquittoAcl.Build(sites, options.Broker.Username, options.HomeAssistant.DiscoveryPrefix, options.HomeAssistant.StatePrefix);
            if (parse.GetValue(output) is { } path)
            {
                var temp = path + ".tmp";
                File.WriteAllText(temp, acl);
                File.Move(temp, path, overwrite: true);
                error.WriteLine($"Wrote the ACL of {sites.Count} site(s) to {path}.");
            }
            else
            {
                parse.InvocationConfiguration.Output.Write(acl);
            }

            return 0;
        }));
        return command;
    }

    private static Option<string> PasswordFileOption() => new("--password-file")
    {
        Description = "The Mosquitto-format password file to change (default: the setting Collector:Broker:PasswordFile).",
        HelpName = "FILE",
    };

    private static Argument<string> DeviceArgument(string description)
    {
        var device = new Argument<string>("device") { Description = description };
        device.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!BrokerCredentials.IsValidUserName(value))
            {
                result.AddError($"'{value}' is not a device id (lower-case letters, digits and '-', at most 63, as in the site file)");
            }
        });
        return device;
    }

    private static Command CreateAdd(SettingsArguments settings)
    {
        var device = DeviceArgument("The device id, as in the site file (pi-dc-lab).");
        var file = PasswordFileOption();
        var rotate = new Option<bool>("--rotate") { Description = "Give a device that has a login a new password (the old one stops working)." };
        var command = new Command("add", "Make a random password for a device, put its hash in the password file and print the password once.") { device, file, rotate };
        command.SetAction(parse => CollectorCommandLine.Guard(parse, error =>
        {
            var (path, site) = Resolve(settings, parse.GetValue(file), error);
            if (path is null)
            {
                return CollectorCommandLine.Invalid;
            }

            var id = parse.GetValue(device)!;
            var replace = parse.GetValue(rotate);
            var password = MqttPasswordHash.NewPassword();
            var existed = PasswordFile.Users(path).Contains(id, StringComparer.Ordinal);
            if (!PasswordFile.Set(path, id, MqttPasswordHash.Create(password), replace))
            {
                error.WriteLine($"Device '{id}' already has a login in {path}; give --rotate for a new password (the old one then stops working).");
                return 1;
            }

            if (site is not null && !site.Devices.Contains(id, StringComparer.Ordinal))
            {
                error.WriteLine($"Note: '{id}' is not a device of the site file: it can log in, but the collector stores its readings as plain series until the site file names its sensors.");
            }

            var output = parse.InvocationConfiguration.Output;
            output.WriteLine(existed
                ? $"Device '{id}' has a new password in {path} (the old one stops working when the broker reads the file). Its password (shown once, put it in the Pi's /etc/newtechpark/edge-agent.env as NTP_Agent__Broker__Password):"
                : $"Device '{id}' added to {path}. Its password (shown once, put it in the Pi's /etc/newtechpark/edge-agent.env as NTP_Agent__Broker__Password):");
            output.WriteLine(password);
            output.WriteLine("A running collector reads the file again by itself (or on SIGHUP); Mosquitto needs SIGHUP (systemctl reload mosquitto).");
            return 0;
        }));
        return command;
    }

    private static Command CreateList(SettingsArguments settings)
    {
        var file = PasswordFileOption();
        var json = new Option<bool>("--json") { Description = "JSON for scripts instead of a table." };
        var command = new Command("list", "Every device of the site file and every login of the password file: rooms, login, last seen, online or offline.") { file, json };
        command.SetAction(parse => CollectorCommandLine.Guard(parse, error =>
        {
            using var loaded = CommandSettings.Load(settings, validate: false);
            var site = loaded.TrySite(out var siteProblem);
            if (siteProblem is not null)
            {
                error.WriteLine($"Note: {siteProblem}");
            }

            var options = loaded.Options;
            var path = parse.GetValue(file) ?? options.Broker.PasswordFile;
            var fileUsers = string.IsNullOrWhiteSpace(path) || !File.Exists(path) ? [] : PasswordFile.Users(path).ToHashSet(StringComparer.Ordinal);
            if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
            {
                error.WriteLine($"Note: the password file {path} does not exist yet (collector devices add DEVICE makes it).");
            }

            IReadOnlyList<DeviceSeen> seen = [];
            using (var store = StoreInspection.Open(StoreInspection.FileOf(options.DataDirectory)))
            {
                if (store is not null && site is not null)
                {
                    seen = store.Devices(site.Site);
                }
            }

            var listings = List(site, fileUsers, options.Broker.Users.Keys, options.Broker.Readers, seen, DateTimeOffset.UtcNow);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(listings, CommandLineJsonContext.Readable.IReadOnlyListDeviceListing));
                return 0;
            }

            var table = Terminal.Table(output, "DEVICE", "ROOMS", "SITE FILE", "LOGIN", "LAST SEEN", "STATE");
            var zone = site is null ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
            foreach (var d in listings)
            {
                table.AddRow(
                    Markup.Escape(d.Device),
                    Markup.Escape(d.Rooms.Count == 0 ? "-" : string.Join(", ", d.Rooms)),
                    d.InSiteFile ? "yes" : "no",
                    (d.Login ?? "none") + (d.Reader ? " (reader)" : ""),
                    d.LastSeen is { } at ? TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "never",
                    d.State switch { "online" => "[green]online[/]", "offline" => "[red]offline[/]", var s => Markup.Escape(s) });
            }

            Terminal.Create(output).Write(table);
            return 0;
        }));
        return command;
    }

    private static Command CreateRemove(SettingsArguments settings)
    {
        var device = DeviceArgument("The device whose login goes.");
        var file = PasswordFileOption();
        var yes = new Option<bool>("--yes", "-y") { Description = "Remove without asking (needed when standard input is not a terminal)." };
        var command = new Command("remove", "Remove a device's login from the password file; the running collector drops its session. Its stored readings stay.") { device, file, yes };
        command.SetAction(parse => CollectorCommandLine.Guard(parse, error =>
        {
            var (path, _) = Resolve(settings, parse.GetValue(file), error);
            if (path is null)
            {
                return CollectorCommandLine.Invalid;
            }

            var id = parse.GetValue(device)!;
            if (!PasswordFile.Users(path).Contains(id, StringComparer.Ordinal))
            {
                error.WriteLine($"Device '{id}' has no login in {path}.");
                return 1;
            }

            if (!parse.GetValue(yes))
            {
                if (Console.IsInputRedirected)
                {
                    error.WriteLine($"Removing the login of '{id}' needs --yes when standard input is not a terminal.");
                    return CollectorCommandLine.Invalid;
                }

                error.Write($"Remove the login of '{id}' from {path}? The device can no longer publish. [y/N] ");
                if (Console.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes"))
                {
                    error.WriteLine("Nothing removed.");
                    return 1;
                }
            }

            PasswordFile.Remove(path, id);
            parse.InvocationConfiguration.Output.WriteLine($"Login of '{id}' removed from {path}. A running collector reads the file again by itself and closes the device's session; Mosquitto needs SIGHUP (systemctl reload mosquitto). Its stored readings stay.");
            return 0;
        }));
        return command;
    }

    private static Command CreateHashPassword()
    {
        var command = new Command("hash-password", "Turn a password on standard input (one line) into a password-file hash ($7$, as mosquitto_passwd writes it) for Collector:Broker:Users.");
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            // One line, read a character at a time: a terminal gives it on Enter, and a line without end stops at the limit.
            var line = new System.Text.StringBuilder();
            int c;
            while ((c = Console.In.Read()) is not (-1 or '\n'))
            {
                if (line.Length == MaxPasswordChars)
                {
                    error.WriteLine($"hash-password: the password is longer than {MaxPasswordChars} characters");
                    return CollectorCommandLine.Invalid;
                }

                line.Append((char)c);
            }

            var password = line.ToString().TrimEnd('\r');
            if (password.Length == 0)
            {
                error.WriteLine("hash-password: give the password on standard input (one line), for example: printf '%s\\n' \"$PASSWORD\" | collector devices hash-password");
                return CollectorCommandLine.Invalid;
            }

            parse.InvocationConfiguration.Output.WriteLine(MqttPasswordHash.Create(password));
            return 0;
        });
        return command;
    }

    /// <summary>The rows of <c>devices list</c>: the site file's devices, the logins, and devices only the store knows.</summary>
    public static IReadOnlyList<DeviceListing> List(SiteModel? site, IReadOnlySet<string> fileUsers, IEnumerable<string> settingsUsers, IEnumerable<string> readers, IReadOnlyList<DeviceSeen> seen, DateTimeOffset now)
    {
        var inSite = (site?.Devices ?? []).ToHashSet(StringComparer.Ordinal);
        var fromSettings = settingsUsers.ToHashSet(StringComparer.Ordinal);
        var readerSet = readers.ToHashSet(StringComparer.Ordinal);
        var lastSeen = seen.ToDictionary(d => d.Device, StringComparer.Ordinal);
        return inSite.Union(fileUsers).Union(fromSettings).Union(lastSeen.Keys).Order(StringComparer.Ordinal).Select(device =>
        {
            var login = fileUsers.Contains(device) ? "file" : fromSettings.Contains(device) ? "settings" : null;
            var state = !lastSeen.TryGetValue(device, out var row) ? "never-seen"
                : row.State == "online" && now - row.LastSeen > DevicesApi.OfflineAfter ? "offline" : row.State;
            return new DeviceListing(device, site is null ? [] : RoomsOf(site, device), inSite.Contains(device), login, readerSet.Contains(device), row?.LastSeen, state);
        }).ToList();
    }

    /// <summary>The rooms a device's sensors, doors and meters stand in (a door counts for the room it leads into).</summary>
    public static IReadOnlyList<string> RoomsOf(SiteModel site, string device) =>
        site.Sensors.Where(s => s.Device == device).Select(s => s.Room)
            .Concat(site.Doors.Where(d => d.Device == device).SelectMany(d => new[] { d.To, d.From }))
            .Concat(site.Meters.Where(m => m.Device == device).Select(m => m.Room))
            .OfType<string>().Where(r => r != SiteModel.Outside).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The password file from --password-file or the settings, and the site (for a note); null path: said why.</summary>
    private static (string? Path, SiteModel? Site) Resolve(SettingsArguments settings, string? given, TextWriter error)
    {
        using var loaded = CommandSettings.Load(settings, validate: false);
        var site = loaded.TrySite(out _);
        var path = string.IsNullOrWhiteSpace(given) ? loaded.Options.Broker.PasswordFile : given;
        if (string.IsNullOrWhiteSpace(path))
        {
            error.WriteLine("No password file: set Collector:Broker:PasswordFile (README, 'Provisioning a device') or give --password-file FILE.");
            return (null, site);
        }

        return (path, site);
    }
}
