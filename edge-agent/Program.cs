using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Agent;

/// <summary>
/// The edge agent: reads the sensors of one area of the building and publishes them over MQTT.
/// <c>--once</c> reads every sensor once and prints the readings; <c>--list-sensors</c> prints the
/// configured sensors and their health. Neither needs a broker.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var once = args.Contains("--once");
        var list = args.Contains("--list-sensors");
        if (!once && !list)
        {
            using var service = EdgeAgentHost.CreateService(args);
            try
            {
                // Checked before the host starts, so a wrong setting is not also logged with a stack trace as a failed start.
                service.Services.GetRequiredService<IStartupValidator>().Validate();
                await service.RunAsync().ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is OptionsValidationException || BindingError.Explain(e) is not null)
            {
                return await ConfigurationInvalidAsync(e).ConfigureAwait(false);
            }
        }

        using var host = EdgeAgentHost.CreateSensorsOnly(args);
        try
        {
            host.Services.GetRequiredService<IStartupValidator>().Validate();
            await host.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OptionsValidationException || BindingError.Explain(e) is not null)
        {
            return await ConfigurationInvalidAsync(e).ConfigureAwait(false);
        }

        var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
        var results = await SensorCheck.ReadOnceAsync(host.Services, SensorCheck.DefaultTimeout, untilHealthKnown: list).ConfigureAwait(false);
        Console.Write(list ? SensorCheck.FormatSensors(results, options) : SensorCheck.FormatReadings(results));
        await host.StopAsync().ConfigureAwait(false);
        return results.All(r => list ? r.Health == "ok" : r.Reading is not null) ? 0 : 1;
    }

    /// <summary>A wrong setting: say which, without a stack trace, and exit with 2 (systemd does not restart on it).</summary>
    private static async Task<int> ConfigurationInvalidAsync(Exception e)
    {
        // A value of the wrong type (Port=abc) fails in the binder, before any validator runs.
        IEnumerable<string> problems = e is OptionsValidationException invalid ? invalid.Failures : [BindingError.Explain(e)!];
        await Console.Error.WriteLineAsync("The configuration is not valid:" + Environment.NewLine + "- " + string.Join(Environment.NewLine + "- ", problems)).ConfigureAwait(false);
        return 2;
    }
}
