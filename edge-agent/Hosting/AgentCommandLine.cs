using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>
/// The agent's command line: the service, <c>--once</c> (every sensor read once and printed) or
/// <c>--list-sensors</c> (the configured sensors and their health). Neither check needs a broker.
/// Shared by the production agent and the simulated agent, so both answer alike.
/// </summary>
public static class AgentCommandLine
{
    /// <summary>Exit codes: 0 fine, 1 a sensor gave no reading (or is not <c>ok</c>), 2 the configuration is not valid.</summary>
    public static async Task<int> RunAsync(string[] args, AgentHardware? hardware = null, Action<HostApplicationBuilder>? configure = null)
    {
        var once = args.Contains("--once");
        var list = args.Contains("--list-sensors");
        if (!once && !list)
        {
            try
            {
                using var service = EdgeAgentHost.CreateService(args, hardware, configure);
                // Checked before the host starts, so a wrong setting is not also logged with a stack trace as a failed start.
                service.Services.GetRequiredService<IStartupValidator>().Validate();
                await service.RunAsync().ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (Invalid(e) is { } invalid)
            {
                return await ConfigurationInvalidAsync(invalid).ConfigureAwait(false);
            }
        }

        IHost host;
        try
        {
            host = EdgeAgentHost.CreateSensorsOnly(args, hardware, configure);
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
            Console.Write(list ? SensorCheck.FormatSensors(results, options, host.Services.GetRequiredService<AgentHardware>().Name) : SensorCheck.FormatReadings(results));
            await host.StopAsync().ConfigureAwait(false);
            return results.All(r => list ? r.Health == "ok" : r.Reading is not null) ? 0 : 1;
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
        return 2;
    }
}
