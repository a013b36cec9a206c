using System.Device.Gpio;

namespace NewTechPark.Edge.Simulation.Scenario;

/// <summary>
/// Real-time actions at given instants (beam edges, pulse edges, cards held and taken away),
/// played in order by whoever runs the simulation loop.
/// </summary>
public sealed class Timeline
{
    private readonly Lock _gate = new();
    private readonly PriorityQueue<Action, (DateTimeOffset, long)> _queue = new();
    private long _order;

    public void At(DateTimeOffset when, Action action)
    {
        lock (_gate)
        {
            _queue.Enqueue(action, (when, _order++));
        }
    }

    /// <summary>Runs every action due by <paramref name="now"/>.</summary>
    public void RunDue(DateTimeOffset now)
    {
        while (true)
        {
            Action action;
            lock (_gate)
            {
                if (!_queue.TryPeek(out _, out var due) || due.Item1 > now)
                {
                    return;
                }

                action = _queue.Dequeue();
            }

            action();
        }
    }
}

/// <summary>Plays a person walking through a door as the four beam edges a body makes (broken = low).</summary>
public sealed class DoorWalker(SimulatedGpioDriver gpio, int outerPin, int innerPin, Timeline timeline)
{
    /// <summary>Beam timings of a person walking through at normal pace.</summary>
    public static readonly TimeSpan[] Steps = [TimeSpan.Zero, TimeSpan.FromMilliseconds(140), TimeSpan.FromMilliseconds(330), TimeSpan.FromMilliseconds(480)];

    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(250);
    private DateTimeOffset _free = DateTimeOffset.MinValue;

    /// <summary>Beams intact (high, pulled up) until someone walks through.</summary>
    public void Idle()
    {
        gpio.SetInput(outerPin, PinValue.High);
        gpio.SetInput(innerPin, PinValue.High);
    }

    /// <summary>Schedules one passage when the door is free; returns when the person is through.</summary>
    public DateTimeOffset Walk(bool into, DateTimeOffset earliest, double pace = 1)
    {
        var start = _free > earliest ? _free : earliest;
        var (first, second) = into ? (outerPin, innerPin) : (innerPin, outerPin);
        timeline.At(start + (Steps[0] * pace), () => gpio.SetInput(first, PinValue.Low));
        timeline.At(start + (Steps[1] * pace), () => gpio.SetInput(second, PinValue.Low));
        timeline.At(start + (Steps[2] * pace), () => gpio.SetInput(first, PinValue.High));
        timeline.At(start + (Steps[3] * pace), () => gpio.SetInput(second, PinValue.High));
        var through = start + (Steps[3] * pace);
        _free = through + Gap;
        return through;
    }
}

/// <summary>
/// An energy meter's S0 output: the energy that flows at the power the simulation sets becomes
/// pulses (low for 40 ms, or half the interval at high rates) of 1000/pulses-per-kWh Wh each.
/// </summary>
public sealed class PulseTrain(SimulatedGpioDriver gpio, int pin, double pulsesPerKwh, Timeline timeline)
{
    private readonly double _whPerPulse = 1000.0 / pulsesPerKwh;
    private double _pendingWh;
    private DateTimeOffset? _last;

    public long Pulses { get; private set; }

    public void Idle() => gpio.SetInput(pin, PinValue.High);

    /// <summary>
    /// Advances the meter to the real instant <paramref name="now"/> at <paramref name="powerW"/>,
    /// over <paramref name="scenarioElapsed"/> of scenario time since the last call. The pulses
    /// that energy makes are played from now on, spread over the real time the call covered, each
    /// low for 40 ms (less only at rates above 12 pulses a second).
    /// </summary>
    public void Advance(DateTimeOffset now, TimeSpan scenarioElapsed, double powerW)
    {
        var realElapsed = _last is { } last ? now - last : TimeSpan.Zero;
        _last = now;
        if (powerW <= 0 || scenarioElapsed <= TimeSpan.Zero)
        {
            return;
        }

        _pendingWh += powerW * scenarioElapsed.TotalHours;
        var count = (int)Math.Floor(_pendingWh / _whPerPulse);
        if (count == 0)
        {
            return;
        }

        _pendingWh -= count * _whPerPulse;
        // The real time between pulses at this power and this scenario speed.
        var speed = realElapsed > TimeSpan.Zero ? scenarioElapsed / realElapsed : 1;
        var spacing = TimeSpan.FromHours(_whPerPulse / powerW) / speed;
        var width = TimeSpan.FromMilliseconds(Math.Clamp(spacing.TotalMilliseconds * 0.5, 1, 40));
        var start = _nextFree > now ? _nextFree : now;
        for (var i = 0; i < count; i++)
        {
            var at = start + (spacing * i);
            timeline.At(at, () => gpio.SetInput(pin, PinValue.Low));
            timeline.At(at + width, () => gpio.SetInput(pin, PinValue.High));
            _nextFree = at + spacing;
            Pulses++;
        }
    }

    private DateTimeOffset _nextFree = DateTimeOffset.MinValue;
}

/// <summary>Holds visitor cards to a simulated MFRC522 for a moment each.</summary>
public sealed class BadgeHolder(SimulatedMfrc522 reader, Timeline timeline)
{
    public static readonly TimeSpan HoldTime = TimeSpan.FromMilliseconds(900);

    private DateTimeOffset _free = DateTimeOffset.MinValue;

    public DateTimeOffset CheckIn(byte[] uid, DateTimeOffset earliest)
    {
        var start = _free > earliest ? _free : earliest;
        timeline.At(start, () => reader.PresentCard(uid));
        timeline.At(start + HoldTime, reader.RemoveCard);
        _free = start + HoldTime + TimeSpan.FromMilliseconds(400);
        return _free;
    }
}
