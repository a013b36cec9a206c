using System.CommandLine;
using System.CommandLine.Parsing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>
/// The agent's command line (System.CommandLine): no command runs the service; <c>check</c> reads
/// every sensor once and prints the readings; <c>sensors</c> prints the configured sensors and
/// their health. Neither check needs a broker. <c>--once</c> and <c>--list-sensors</c>, the old
/// spellings of the two checks, keep working. Settings (<c>--Agent:Device=pi-dc-lab</c>,
/// <c>--Agent:Hardware Real</c>) are split off first (<see cref="AgentArguments"/>) and go to the
/// host as before. Shared by the production agent and the simulated agent, so both answer alike.
/// </summary>
public static class AgentCommandLine
{
    /// <summary>Exit code: all is well.</summary>
    public const int Ok = 0;

    /// <summary>Exit code: a sensor gave no reading (<c>check</c>) or is not <c>ok</c> (<c>sensors</c>).</summary>
    public const int SensorFailed = 1;

    /// <summary>Exit code: the configuration or the command line is not valid; systemd does not restart on it (RestartPreventExitStatus=2).</summary>
    public const int Usage = 2;

    /// <summary>
    /// No response files: <c>edge-agent @/some/file</c> would read any file the service user can
    /// and echo its words back in the refusal. The agent's arguments come from its unit or a shell.
    /// </summary>
    public static ParserConfiguration Parsing => new() { ResponseFileTokenReplacer = null };

    /// <summary>Parses <paramref name="args"/> and runs what they ask for; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, AgentHardware? hardware = null, Action<HostApplicationBuilder>? configure = null)
    {
        var split = AgentArguments.Split(args);
        var root = Build(split.Settings, hardware, configure);
        var parsed = root.Parse(split.Command, Parsing);
        if (split.Error is { } error)
        {
            await Console.Error.WriteLineAsync(error).ConfigureAwait(false);
            await Console.Error.WriteLineAsync("Run with --help to see the commands and options.").ConfigureAwait(false);
            return Usage;
        }

        var invocation = new InvocationConfiguration
        {
            // The host handles SIGTERM and Ctrl+C itself (SystemdLifetime, ConsoleLifetime) and
            // stops in order; System.CommandLine's own handler would cancel the action instead.
            ProcessTerminationTimeout = null,
            // A crash stays a crash (logged, non-zero, restarted by systemd), never exit code 1,
            // which here means "a sensor gave no reading".
            EnableDefaultExceptionHandler = false,
        };
        var exit = await parsed.InvokeAsync(invocation).ConfigureAwait(false);
        // System.CommandLine prints the error and its hint ("Did you mean ...?") and returns 1;
        // a usage error is 2 here, like a wrong setting.
        return parsed.Errors.Count > 0 ? Usage : exit;
    }

    /// <summary>The commands and options, for <paramref name="settings"/> already split off.</summary>
    public static RootCommand Build(IReadOnlyList<string> settings, AgentHardware? hardware = null, Action<HostApplicationBuilder>? configure = null)
    {
        var once = new Option<bool>("--once") { Description = "Old spelling of 'check'." };
        var listSensors = new Option<bool>("--list-sensors") { Description = "Old spelling of 'sensors'." };
        var check = new Command("check", "Read every configured sensor once and print the readings (no broker needed). Exit code 1 when a sensor gave no reading.");
        var sensors = new Command("sensors", "List the configured sensors, where they are wired and their health (no broker needed). Exit code 1 when a sensor is not ok.");
        var root = new RootCommand(
            "NewTechPark edge agent: reads the sensors of one area of the building and publishes them over MQTT. " +
            "Without a command it runs as the service. Settings are given as --Section:Key=value (for example --Agent:Device=pi-dc-lab), " +
            "after appsettings.json and NTP_ environment variables (NTP_Agent__Device).")
        {
            once,
            listSensors,
            check,
            sensors,
        };
        // --version answers under every command too, as --help does.
        foreach (var version in root.Options.OfType<VersionOption>())
        {
            version.Recursive = true;
        }

        root.Validators.Add(result =>
        {
            if (result.GetValue(once) && result.GetValue(listSensors))
            {
                result.AddError("--once and --list-sensors cannot be combined: run 'check' or 'sensors'.");
            }
        });

        var arguments = settings.ToArray();
        check.SetAction((parsed, _) => CheckAsync(arguments, hardware, configure, list: false, parsed.InvocationConfiguration.Output));
        sensors.SetAction((parsed, _) => CheckAsync(arguments, hardware, configure, list: true, parsed.InvocationConfiguration.Output));
        root.SetAction((parsed, _) =>
            parsed.GetValue(once) ? CheckAsync(arguments, hardware, configure, list: false, parsed.InvocationConfiguration.Output)
            : parsed.GetValue(listSensors) ? CheckAsync(arguments, hardware, configure, list: true, parsed.InvocationConfiguration.Output)
            : ServiceAsync(arguments, hardware, configure));
        return root;
    }

    /// <summary>The agent as a service until stopped (SIGTERM, Ctrl+C).</summary>
    private static async Task<int> ServiceAsync(string[] settings, AgentHardware? hardware, Action<HostApplicationBuilder>? configure)
    {
        try
        {
            using var service = EdgeAgentHost.CreateService(settings, hardware, configure);
            // Checked before the host starts, so a wrong setting is not also logged with a stack trace as a failed start.
            service.Services.GetRequiredService<IStartupValidator>().Validate();
            await service.RunAsync().ConfigureAwait(false);
            return Ok;
        }
        catch (Exception e) when (Invalid(e) is { } invalid)
        {
            return await ConfigurationInvalidAsync(invalid).ConfigureAwait(false);
        }
    }

    /// <summary><c>check</c> (every sensor read once) or <c>sensors</c> (the list with each sensor's health).</summary>
    private static async Task<int> CheckAsync(string[] settings, AgentHardware? hardware, Action<HostApplicationBuilder>? configure, bool list, TextWriter output)
    {
        IHost host;
        try
        {
            host = EdgeAgentHost.CreateSensorsOnly(settings, hardware, configure);
        }
        catch (Exception e) when (Invalid(e) is { } invalid)
        {
            return await ConfigurationInvalidAsync(invalid).ConfigureAwait(false);
        }

        using (host)
        {
            try
            {
                host.Services.GetRequiredService<IStartupValidator>().Validate();
                await host.StartAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (Invalid(e) is { } invalid)
            {
                return await ConfigurationInvalidAsync(invalid).ConfigureAwait(false);
            }

            var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
            var results = await SensorCheck.ReadOnceAsync(host.Services, SensorCheck.DefaultTimeout, untilHealthKnown: list).ConfigureAwait(false);
            await output.WriteAsync(list ? SensorCheck.FormatSensors(results, options, host.Services.GetRequiredService<AgentHardware>().Name) : SensorCheck.FormatReadings(results)).ConfigureAwait(false);
            await output.FlushAsync().ConfigureAwait(false);
            await host.StopAsync().ConfigureAwait(false);
            return results.All(r => list ? r.Health == "ok" : r.Reading is not null) ? Ok : SensorFailed;
        }
    }

    /// <summary>
    /// The failures of one options section, or of several (the host throws an AggregateException
    /// when more than one section fails its start-up validation, as the simulated agent's can).
    /// </summary>
    private static IEnumerable<string>? Invalid(Exception e) => e switch
    {
        OptionsValidationException invalid => invalid.Failures,
        AggregateException many when many.InnerExceptions.All(i => i is OptionsValidationException) =>
            many.InnerExceptions.SelectMany(i => ((OptionsValidationException)i).Failures).ToList(),
        // A value of the wrong type (Port=abc) fails in the binder, before any validator runs.
        _ when BindingError.Explain(e) is { } binding => [binding],
        _ => null,
    };

    /// <summary>A wrong setting: say which, without a stack trace, and exit with 2 (systemd does not restart on it).</summary>
    private static async Task<int> ConfigurationInvalidAsync(IEnumerable<string> failures)
    {
        await Console.Error.WriteLineAsync("The configuration is not valid:" + Environment.NewLine + "- " + string.Join(Environment.NewLine + "- ", failures)).ConfigureAwait(false);
        return Usage;
    }
}
