using System.Device.I2c;
using Iot.Device.Vl53L1X;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.Readers.Door;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Agent.Hosting;

namespace NewTechPark.Edge.Agent.Readers.TimeOfFlight;

/// <summary>
/// A door counted by one VL53L1X time-of-flight sensor above it, looking down (ST UM2555, "counting
/// people"). The sensor ranges in two regions of interest of its SPAD array in turn, one over the
/// door's outer side and one over its inner side; a zone is occupied while it measures a valid
/// distance below <see cref="SensorOptions.PresenceBelowMm"/> (a head or shoulders, not the floor).
/// The zones' changes go into the same <see cref="DoorDirectionDetector"/> as the two beams of
/// <c>door-beams</c> (outer zone = <see cref="Beam.Outer"/>), and each crossing becomes a
/// <c>door</c> reading with the door's persisted totals.
/// </summary>
/// <remarks>
/// The Iot.Device.Bindings 4.2 <c>Vl53L1X</c> class starts the part (boot wait, ST's default
/// configuration), sets distance mode, timing budget, ROI size and ROI centre, starts and stops
/// ranging and reads the distance. The reader reads four registers itself on the same
/// <see cref="I2cDevice"/> (see <see cref="Vl53l1xRegisters"/>): the model id (the binding does not
/// check it), the data-ready bit (the binding's wait for data does not wait: its loop condition is
/// inverted, so it throws when the result is not ready at the first look), the range status (the
/// binding's <c>RangeStatus</c> throws on raw codes it does not know) and the inter-measurement
/// period (the binding's setter reads the oscillator value as 32 bits where ST's ULD reads 16, so it
/// masks the wrong bytes).
/// </remarks>
public sealed class Vl53l1xDoorReader(
    SensorOptions options,
    II2cBus bus,
    AgentStateStore state,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Vl53l1xDoorReader> logger) : ISensorReader
{
    /// <summary>The address every VL53L1X has after power-up.</summary>
    public const int DefaultAddress = 0x29;

    /// <summary>Timing budgets (ms) the binding can set in long distance mode, up to 100 ms per zone.</summary>
    public static readonly IReadOnlyList<int> TimingBudgetsMs = [20, 33, 50, 100];

    /// <summary>How long a ranging may take beyond its timing budget before the part is taken as gone.</summary>
    private static readonly TimeSpan ResultTimeout = TimeSpan.FromMilliseconds(500);

    private readonly DoorDirectionDetector _detector = new(TimeSpan.Zero, DoorDirectionDetector.DefaultStuckAfter);
    private DoorTotals? _totals;

    public string SensorId => options.Id;

    public string Kind => ReadingKinds.Door;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Vl53l1xDoorReader>(services, options);

    /// <summary>Checks the settings only this type has; messages start with the sensor's path.</summary>
    public static void Check(SensorOptions sensor, AgentOptions agent, string at, List<string> errors)
    {
        var interval = SensorTypes.All[SensorTypes.Vl53l1xDoor].IntervalOf(sensor);
        if (interval >= TimeSpan.FromMilliseconds(TimingBudgetsMs[0]) && interval <= TimeSpan.FromMilliseconds(TimingBudgetsMs[^1])
            && !TimingBudgetsMs.Any(ms => interval == TimeSpan.FromMilliseconds(ms)))
        {
            errors.Add($"{at}:SampleInterval {interval} is not a VL53L1X timing budget; use 20, 33, 50 or 100 ms (per zone)");
        }

        if (sensor.PresenceBelowMm is < 100 or > 4000)
        {
            errors.Add($"{at}:PresenceBelowMm {sensor.PresenceBelowMm} must be between 100 and 4000 (mm from the sensor; below the door frame, above the floor)");
        }

        if (sensor.RoiWidth is < 4 or > 16)
        {
            errors.Add($"{at}:RoiWidth {sensor.RoiWidth} must be between 4 and 16 SPADs");
        }

        if (sensor.RoiHeight is < 4 or > 16)
        {
            errors.Add($"{at}:RoiHeight {sensor.RoiHeight} must be between 4 and 16 SPADs");
        }

        if (sensor.OuterRoiCentre is < 0 or > 255)
        {
            errors.Add($"{at}:OuterRoiCentre {sensor.OuterRoiCentre} is not a SPAD number (0-255)");
        }

        if (sensor.InnerRoiCentre is < 0 or > 255)
        {
            errors.Add($"{at}:InnerRoiCentre {sensor.InnerRoiCentre} is not a SPAD number (0-255)");
        }
        else if (sensor.InnerRoiCentre == sensor.OuterRoiCentre)
        {
            errors.Add($"{at}:InnerRoiCentre {sensor.InnerRoiCentre} is the same as OuterRoiCentre; the two zones must differ");
        }
    }

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        var address = options.Address ?? DefaultAddress;
        var budget = SensorTypes.All[SensorTypes.Vl53l1xDoor].IntervalOf(options);
        var threshold = options.PresenceBelowMm;
        var centres = (Outer: (byte)options.OuterRoiCentre, Inner: (byte)options.InnerRoiCentre);
        _totals = new DoorTotals(SensorId, state);

        var device = bus.OpenDevice(options.I2cBus, address);
        using var tof = Open(device, address, budget);
        logger.LogInformation(
            "VL53L1X door counter {Sensor} at 0x{Address:x2} on I2C bus {Bus}: zones {Width}x{Height} SPADs at {Outer} (outer) and {Inner} (inner), {Budget} ms each, occupied below {Threshold} mm, totals in {In} out {Out}",
            SensorId, address, options.I2cBus, options.RoiWidth, options.RoiHeight, centres.Outer, centres.Inner, budget.TotalMilliseconds, threshold, _totals.In, _totals.Out);

        // Bit 0 of GPIO__TIO_HV_STATUS equals the interrupt polarity when a result is ready (ST ULD).
        var readyBit = (Vl53l1xRegisters.ReadByte(device, Vl53l1xRegisters.GpioHvMuxCtrl) & 0x10) == 0 ? 1 : 0;
        var zone = Beam.Outer;
        var reportedStuck = false;
        health.ReportOk(SensorId);
        var heartbeat = LoopHeartbeats.Current;
        try
        {
            while (true)
            {
                // Zone switching: the ROI centre is written while ranging is stopped, so the next
                // ranging is of that zone (UM2555 alternates the zones every measurement).
                tof.RoiCenter = zone == Beam.Outer ? centres.Outer : centres.Inner;
                tof.StartRanging();
                await heartbeat.AliveWhile(Task.Delay(budget, clock, cancellationToken)).ConfigureAwait(false);
                await WaitForResultAsync(device, readyBit, address, heartbeat, cancellationToken).ConfigureAwait(false);
                var status = Vl53l1xRegisters.ReadByte(device, Vl53l1xRegisters.RangeStatus) & 0x1F;
                var millimeters = tof.GetDistance().Millimeters; // also clears the interrupt
                tof.StopRanging();

                // Only a valid ranging nearer than the threshold is a person; no target, a weak
                // signal or a wrapped-around range is the floor (nobody).
                var occupied = status == Vl53l1xRegisters.RangeValid && millimeters < threshold;
                var now = clock.GetUtcNow();
                Emit(sink, _detector.OnBeam(zone, occupied, now));
                reportedStuck = ReportStuck(now, reportedStuck);
                zone = zone == Beam.Outer ? Beam.Inner : Beam.Outer;
            }
        }
        finally
        {
            StopQuietly(tof);
        }
    }

    private Vl53L1X Open(I2cDevice device, int address, TimeSpan budget)
    {
        Vl53L1X tof;
        try
        {
            // The constructor waits for the boot flag, writes ST's default configuration and runs one ranging.
            tof = new Vl53L1X(device, operationTimeoutMilliseconds: 500, shouldDispose: true);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            device.Dispose();
            throw new IOException(
                $"{SensorId}: no VL53L1X answers at 0x{address:x2} on I2C bus {options.I2cBus} ({ex.Message}); check VIN, GND, SDA, SCL and that XSHUT is not held low", ex);
        }

        try
        {
            var model = Vl53l1xRegisters.ReadUInt16(device, Vl53l1xRegisters.ModelId);
            if (model != Vl53l1xRegisters.ExpectedModelId)
            {
                throw new IOException($"{SensorId}: the part at 0x{address:x2} on I2C bus {options.I2cBus} is not a VL53L1X (model id 0x{model:x4}, expected 0x{Vl53l1xRegisters.ExpectedModelId:x4})");
            }

            // Long distance mode: the floor is 2–2.5 m away, beyond short mode's 1.3 m.
            tof.Precision = Precision.Long;
            tof.TimingBudgetInMs = (TimingBudget)(ushort)budget.TotalMilliseconds;
            var pllTicksPerMs = Vl53l1xRegisters.ReadUInt16(device, Vl53l1xRegisters.OscCalibrateVal) & 0x3FF;
            Vl53l1xRegisters.WriteUInt32(device, Vl53l1xRegisters.IntermeasurementPeriod, (uint)(pllTicksPerMs * budget.TotalMilliseconds * 1.075));
            tof.Roi = new Roi((ushort)options.RoiWidth, (ushort)options.RoiHeight);
            return tof;
        }
        catch
        {
            tof.Dispose();
            throw;
        }
    }

    private async Task WaitForResultAsync(I2cDevice device, int readyBit, int address, Heartbeat? heartbeat, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + ResultTimeout;
        while ((Vl53l1xRegisters.ReadByte(device, Vl53l1xRegisters.GpioTioHvStatus) & 1) != readyBit)
        {
            if (clock.GetUtcNow() > deadline)
            {
                throw new IOException($"{SensorId}: the VL53L1X at 0x{address:x2} on I2C bus {options.I2cBus} gave no result within {ResultTimeout.TotalMilliseconds:0} ms after its timing budget");
            }

            await heartbeat.AliveWhile(Task.Delay(TimeSpan.FromMilliseconds(1), clock, cancellationToken)).ConfigureAwait(false);
        }
    }

    private bool ReportStuck(DateTimeOffset now, bool reportedStuck)
    {
        // Both zones occupied for long (a trolley parked in the door, something hanging in the
        // field of view, a threshold set beyond the floor) counts nothing and is reported.
        var stuck = _detector.IsStuck(now);
        if (stuck == reportedStuck)
        {
            return stuck;
        }

        if (stuck)
        {
            health.ReportError(SensorId, $"both zones occupied for more than {DoorDirectionDetector.DefaultStuckAfter.TotalSeconds:0} s (obstruction in the door, or PresenceBelowMm beyond the floor)");
            logger.LogWarning("VL53L1X door counter {Sensor}: both zones occupied for more than {Seconds} s", SensorId, DoorDirectionDetector.DefaultStuckAfter.TotalSeconds);
        }
        else
        {
            health.ReportOk(SensorId);
        }

        return stuck;
    }

    private void StopQuietly(Vl53L1X tof)
    {
        try
        {
            tof.StopRanging();
        }
        catch (IOException ex)
        {
            // The part is gone (the reason the loop ended, or a cable pulled since): nothing to stop.
            logger.LogDebug(ex, "VL53L1X door counter {Sensor}: could not stop ranging", SensorId);
        }
    }

    private void Emit(IReadingSink sink, IReadOnlyList<(Crossing Crossing, DateTimeOffset At)> crossings)
    {
        foreach (var (crossing, at) in crossings)
        {
            var reading = _totals!.Count(crossing, at);

            // A full queue loses this reading but not the count: the next reading's totals carry it.
            if (!sink.TryAdd(reading))
            {
                logger.LogWarning("Reading queue full: door crossing on {Sensor} kept only in the totals", SensorId);
            }
        }
    }
}
