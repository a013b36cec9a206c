using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Contracts.Configuration;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Agent.Tests.Settings;

/// <summary>
/// Every agent settings file in the tree (the shipped appsettings, the simulation's, each reader's
/// sample) binds to the agent's options and passes its real validators, so a sample cannot drift
/// from the code. A reader's sample holds only its sensors: it is checked on top of the shipped file.
/// </summary>
public sealed class SettingsFilesTests
{
    private const string Shipped = "edge-agent/appsettings.json";

    public static TheoryData<string> Files() => [.. SettingsFiles.Below("edge-agent", "simulation", "hardware")];

    [Fact]
    public void Settings_files_are_read_once_and_not_watched()
    {
        using var temp = new NewTechPark.Edge.TestSupport.TempDirectory();
        using var host = EdgeAgentHost.CreateService(
            ["--Agent:Device=pi-test", $"--Agent:DataDirectory={temp.Path}", "--Agent:SiteKey=test-site-key-0123456789"],
            NewTechPark.Edge.Agent.Hardware.AgentHardware.Real with { RequiresGpioChip = false });
        var files = ((IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>()).Providers
            .OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, f.Source.Path));
    }

    [Fact]
    public void The_files_are_found()
    {
        var files = SettingsFiles.Below("edge-agent", "simulation", "hardware");
        Assert.Contains(Shipped, files);
        Assert.Contains("simulation/appsettings.Simulation.json", files);
        Assert.Contains("edge-agent/Readers/TimeOfFlight/appsettings.sample.json", files);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void A_settings_file_binds_and_validates(string file)
    {
        using var data = new TempDirectory();
        var settings = Flatten(file);
        if (file != Shipped)
        {
            // A sample holds its sensors only; the rest (site, device, broker) comes from the shipped
            // file, whose own sensors the sample's list replaces (configuration lists merge by index).
            foreach (var (key, value) in Flatten(Shipped).Where(p => !p.Key.StartsWith("Agent:Sensors:", StringComparison.OrdinalIgnoreCase)))
            {
                settings.TryAdd(key, value);
            }
        }

        // Only where the state goes differs from the file: a test does not write to /var/lib.
        settings["Agent:DataDirectory"] = data.Path;
        // The site key is a secret each Pi gets at deployment (environment), never in a committed file.
        settings.TryAdd("Agent:SiteKey", "a-site-key-of-32-characters-long");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        // The simulated buses: off a Pi the real drivers' one check of the machine (/dev/gpiochipN)
        // would refuse every file; every check of the settings themselves still runs.
        builder.Services.AddEdgeAgentSensors(builder.Configuration, new SimulatedHardware().ToAgentHardware());
        using var host = builder.Build();
        try
        {
            host.Services.GetRequiredService<IStartupValidator>().Validate();
        }
        catch (OptionsValidationException e)
        {
            Assert.Fail($"{file}: {string.Join("; ", e.Failures)}");
        }
        catch (InvalidOperationException e) when (BindingError.Explain(e) is { } problem)
        {
            Assert.Fail($"{file}: {problem}");
        }
    }

    private static Dictionary<string, string?> Flatten(string file) =>
        new ConfigurationBuilder().AddJsonFile(Path.Combine(SettingsFiles.RepositoryRoot(), file), optional: false).Build()
            .AsEnumerable().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
}
