namespace NewTechPark.Edge.Agent.Tests;

/// <summary>The agent's systemd unit against what the kernel and systemd actually name.</summary>
public sealed class SystemdUnitTests
{
    /// <summary>
    /// Character device names the Pi kernel registers in /proc/devices for what the agent opens:
    /// gpiolib "gpiochip", i2c-dev "i2c", spidev "spi" (drivers/spi/spidev.c registers "spi", not "spidev").
    /// </summary>
    private static readonly HashSet<string> KernelCharDevices = ["gpiochip", "i2c", "spi"];

    private static readonly string[] Unit = File.ReadAllLines(Path.Combine(RepositoryRoot(), "hardware", "systemd", "ntp-edge-agent.service"));

    private static IEnumerable<string> Values(string key) =>
        Unit.Select(l => l.Trim()).Where(l => l.StartsWith(key + "=", StringComparison.Ordinal)).Select(l => l[(key.Length + 1)..]);

    [Fact]
    public void Every_DeviceAllow_names_a_device_the_kernel_registers_and_all_three_buses_are_allowed()
    {
        var allowed = Values("DeviceAllow").Select(v => v.Split(' ')[0]).ToList();
        Assert.NotEmpty(allowed);
        foreach (var entry in allowed)
        {
            Assert.StartsWith("char-", entry, StringComparison.Ordinal);
            Assert.Contains(entry["char-".Length..], KernelCharDevices);
        }

        Assert.Equal(KernelCharDevices.Order(StringComparer.Ordinal), allowed.Select(a => a["char-".Length..]).Order(StringComparer.Ordinal));
        Assert.Equal("closed", Assert.Single(Values("DevicePolicy")));
    }

    [Fact]
    public void The_agent_starts_after_the_clock_is_synchronised_and_has_a_service_watchdog()
    {
        Assert.Contains(Values("After"), v => v.Split(' ').Contains("time-sync.target"));
        Assert.Contains(Values("Wants"), v => v.Split(' ').Contains("time-sync.target"));
        var watchdog = Assert.Single(Values("WatchdogSec"));
        Assert.InRange(int.Parse(watchdog, System.Globalization.CultureInfo.InvariantCulture), 10, 120);
        Assert.Equal("notify", Assert.Single(Values("Type")));

        // The set-up guide enables what makes time-sync.target wait, and the hardware watchdog.
        var setup = File.ReadAllText(Path.Combine(RepositoryRoot(), "hardware", "pi-setup.md"));
        Assert.Contains("chrony-wait.service", setup, StringComparison.Ordinal);
        Assert.Contains("systemd-time-wait-sync.service", setup, StringComparison.Ordinal);
        Assert.Contains("RuntimeWatchdogSec", setup, StringComparison.Ordinal);
    }

    [Fact]
    public void The_service_host_builds_its_hosted_services_outside_systemd()
    {
        // AddSystemd registers its notifier only under systemd: the watchdog must not need it.
        using var temp = new TempDirectory();
        using var host = NewTechPark.Edge.Agent.Hosting.EdgeAgentHost.CreateService(
            ["--Agent:Device=pi-test", $"--Agent:DataDirectory={temp.Path}", "--Agent:SiteKey=test-site-key-0123456789"],
            NewTechPark.Edge.Agent.Hardware.AgentHardware.Real with { RequiresGpioChip = false });
        var hosted = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<Microsoft.Extensions.Hosting.IHostedService>(host.Services).ToList();
        Assert.Contains(hosted, h => h is NewTechPark.Edge.Agent.Hosting.SystemdWatchdog);
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(sourceFile)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("the repository root (NewTechPark.Edge.sln) is not above " + sourceFile);
    }
}
