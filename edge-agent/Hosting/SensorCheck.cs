using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>What one sensor did during a check: its first reading, or why there was none.</summary>
public sealed record SensorCheckResult(SensorOptions Sensor, SensorType Type, Reading? Reading, string Health);

/// <summary>
/// The first thing to run on a new Pi (telegraf's <c>--once</c>; the agent's <c>check</c>): every configured sensor is read
/// once through the same readers the service uses, and what came back is printed. Polled sensors
/// give their first sample; door counters and badge readers their first crossing or card; S0
/// meters their first report. No broker is needed.
/// </summary>
public static class SensorCheck
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Runs every configured sensor until each has given one reading or failed, or until
    /// <paramref name="timeout"/>; a failing sensor never holds up the others.
    /// </summary>
    public static async Task<IReadOnlyList<SensorCheckResult>> ReadOnceAsync(IServiceProvider services, TimeSpan timeout, bool untilHealthKnown = false, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<IOptions<AgentOptions>>().Value;
        var health = services.GetRequiredService<SensorHealth>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var runs = options.Sensors.Select(async sensor =>
        {
            var type = SensorTypes.All[sensor.Type];
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
            var sink = new FirstReadingSink();
            health.ReportStarting(sensor.Id);
            var reader = type.Create(sensor, services);
            var run = Task.Run(() => reader.RunAsync(sink, stop.Token), CancellationToken.None);
            try
            {
                var first = await Task.WhenAny(run, sink.First, untilHealthKnown ? HealthKnownAsync(health, sensor.Id, stop.Token) : Task.Delay(Timeout.Infinite, stop.Token)).ConfigureAwait(false);
                if (first == run)
                {
                    await run.ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                if (health.Get(sensor.Id) == SensorHealth.Starting || (!untilHealthKnown && !sink.First.IsCompleted))
                {
                    health.ReportError(sensor.Id, $"no reading within {timeout.TotalSeconds:0} s");
                }
            }
            catch (Exception e)
            {
                health.ReportError(sensor.Id, e.Message);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await run.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Stopped, or already reported.
                }

                (reader as IDisposable)?.Dispose();
            }

            return new SensorCheckResult(sensor, type, sink.First.IsCompleted ? sink.First.Result : null, health.Get(sensor.Id));
        }).ToArray();
        return await Task.WhenAll(runs).ConfigureAwait(false);
    }

    /// <summary>One line per sensor: kind, sensor, values (or the visitor pseudonym), or the error.</summary>
    public static string FormatReadings(IEnumerable<SensorCheckResult> results)
    {
        var text = new StringBuilder();
        foreach (var result in results)
        {
            if (result.Reading is { } reading)
            {
                var values = reading.Values is { } v
                    ? string.Join(' ', v.Select(kv => $"{kv.Key}={kv.Value.ToString("0.###", CultureInfo.InvariantCulture)}"))
                    : string.Empty;
                var visitor = reading.Visitor is { } pseudonym ? $"visitor={pseudonym}" : string.Empty;
                text.AppendLine(CultureInfo.InvariantCulture, $"{reading.Kind,-8} {reading.Sensor,-28} {string.Join(' ', new[] { values, visitor }.Where(s => s.Length > 0))}  ({reading.Ts:HH:mm:ss.fff}Z)");
            }
            else
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{result.Type.Kind,-8} {result.Sensor.Id,-28} {result.Health}");
            }
        }

        return text.ToString();
    }

    /// <summary>The configured sensors: id, type, kind, room, where it is wired, and its health.</summary>
    public static string FormatSensors(IEnumerable<SensorCheckResult> results, AgentOptions options, string hardware = "Real")
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"sensor",-28} {"type",-11} {"kind",-8} {"room",-26} {"wired to",-26} health");
        foreach (var result in results)
        {
            var sensor = result.Sensor;
            text.AppendLine(CultureInfo.InvariantCulture, $"{sensor.Id,-28} {sensor.Type,-11} {result.Type.Kind,-8} {sensor.Room ?? "-",-26} {WiredTo(sensor, result.Type, options),-26} {result.Health}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"hardware: {hardware}, device {options.Device}, site {options.Site}");
        return text.ToString();
    }

    private static string WiredTo(SensorOptions sensor, SensorType type, AgentOptions options) => type.Bus switch
    {
        SensorBus.Gpio => "GPIO " + string.Join(", ", type.Pins.Select(p => p.Get(sensor)).OfType<int>()),
        SensorBus.I2c => $"I2C-{sensor.I2cBus} 0x{sensor.Address ?? type.Addresses.FirstOrDefault():x2}",
        SensorBus.Spi => $"SPI {sensor.SpiBus}.{sensor.ChipSelect}" + (sensor.ResetPin is { } rst ? $", RST GPIO {rst}" : string.Empty),
        SensorBus.OneWire => $"1-Wire GPIO {options.OneWirePin} {sensor.OneWireId}",
        _ => "?",
    };

    private static async Task HealthKnownAsync(SensorHealth health, string sensorId, CancellationToken cancellationToken)
    {
        while (health.Get(sensorId) == SensorHealth.Starting)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class FirstReadingSink : IReadingSink
    {
        private readonly TaskCompletionSource<Reading> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<Reading> First => _first.Task;

        public bool TryAdd(Reading reading)
        {
            _first.TrySetResult(reading);
            return true;
        }
    }
}
