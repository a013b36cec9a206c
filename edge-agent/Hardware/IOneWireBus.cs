namespace NewTechPark.Edge.Agent.Hardware;

/// <summary>
/// The 1-Wire bus as the Linux <c>w1</c> subsystem shows it: one folder per device
/// (<c>28-0000075a1b2c</c>) whose <c>w1_slave</c> file holds the last scratchpad read, the kernel's
/// CRC verdict and the temperature. Readers go through this interface so a simulated bus can
/// stand in for <c>/sys/bus/w1/devices</c>.
/// </summary>
public interface IOneWireBus
{
    /// <summary>Ids of the devices the bus master has found (<c>28-…</c> for DS18B20 thermometers).</summary>
    IReadOnlyList<string> ListDevices();

    /// <summary>
    /// Makes the device convert and returns the text of its <c>w1_slave</c> file. Throws
    /// <see cref="IOException"/> when the device is not on the bus.
    /// </summary>
    string ReadSlave(string deviceId);
}

/// <summary>The kernel's 1-Wire bus (<c>w1-gpio</c> overlay) under <c>/sys/bus/w1/devices</c>.</summary>
public sealed class SysfsOneWireBus(string root = SysfsOneWireBus.DefaultRoot) : IOneWireBus
{
    public const string DefaultRoot = "/sys/bus/w1/devices";

    public IReadOnlyList<string> ListDevices() =>
        Directory.Exists(root)
            ? Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith("w1_bus_master", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
            : [];

    public string ReadSlave(string deviceId)
    {
        var path = Path.Combine(root, deviceId, "w1_slave");
        if (!File.Exists(path))
        {
            throw new IOException($"1-Wire device {deviceId} is not on the bus ({path} missing)");
        }

        // Reading the file makes the kernel start a conversion (750 ms at 12 bits) and read the scratchpad.
        return File.ReadAllText(path);
    }
}
