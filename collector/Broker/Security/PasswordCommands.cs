using System.Text;

namespace NewTechPark.Edge.Collector.Broker.Security;

/// <summary>
/// Provisioning from the command line, without Mosquitto's tools:
/// <c>collector --add-device ID FILE</c> makes a random password for a device, writes its hash
/// into the password file (created readable by the owner only) and prints the password once;
/// <c>collector --hash-password</c> turns a password on standard input into a hash line.
/// </summary>
public static class PasswordCommands
{
    /// <summary>Runs a command when <paramref name="args"/> asks for one; null otherwise.</summary>
    public static int? TryRun(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        switch (args)
        {
            case ["--hash-password"]:
                var password = input.ReadLine();
                if (string.IsNullOrEmpty(password))
                {
                    error.WriteLine("--hash-password: give the password on standard input (one line), for example: printf '%s\\n' \"$PASSWORD\" | collector --hash-password");
                    return 2;
                }

                output.WriteLine(MqttPasswordHash.Create(password));
                return 0;
            case ["--add-device", var device, var file]:
                return AddDevice(device, file, output, error);
            case ["--add-device", ..] or ["--hash-password", ..]:
                error.WriteLine("usage: collector --add-device DEVICE-ID PASSWORD-FILE   |   collector --hash-password < password");
                return 2;
            default:
                return null;
        }
    }

    private static int AddDevice(string device, string file, TextWriter output, TextWriter error)
    {
        if (!BrokerCredentials.IsValidUserName(device))
        {
            error.WriteLine($"--add-device: '{device}' is not a device id (lower-case letters, digits and '-', as in the site file)");
            return 2;
        }

        var password = MqttPasswordHash.NewPassword();
        var lines = File.Exists(file) ? File.ReadAllLines(file, Encoding.UTF8).Where(l => !l.StartsWith(device + ":", StringComparison.Ordinal)).ToList() : [];
        lines.Add($"{device}:{MqttPasswordHash.Create(password)}");
        var temporary = file + ".new";
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = OperatingSystem.IsWindows()
                   ? new FileStream(temporary, FileMode.Create)
                   : new FileStream(temporary, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = mode }))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
        {
            foreach (var line in lines)
            {
                writer.Write(line + "\n");
            }
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, mode);
        }

        File.Move(temporary, file, overwrite: true);
        output.WriteLine($"Device '{device}' added to {file}. Its password (shown once, put it in the Pi's /etc/newtechpark/edge-agent.env as NTP_Agent__Broker__Password):");
        output.WriteLine(password);
        output.WriteLine("A running collector reads the file again by itself (or on SIGHUP); Mosquitto needs SIGHUP (systemctl reload mosquitto).");
        return 0;
    }
}
