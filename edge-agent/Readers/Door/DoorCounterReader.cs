using System.Device.Gpio;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Agent.Hosting;

namespace NewTechPark.Edge.Agent.Readers.Door;

/// <summary>
/// A door with two break beams. Beam changes arrive as GPIO edge events (the kernel's, through
/// the GPIO character device on a Pi, each with its kernel timestamp), never by polling; the <see cref="DoorDirectionDetector"/> turns them into
/// crossings, and each crossing becomes a <c>door</c> reading with the door's cumulative totals,
/// which are persisted so they survive restarts.
/// </summary>
public sealed class DoorCounterReader : ISensorReader, IDisposable
{
    private readonly SensorOptions _options;
    private readonly GpioController _gpio;
    private readonly AgentStateStore _state;
    private readonly SensorHealth _health;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly DoorDirectionDetector _detector;
    private readonly int _outerPin;
    private readonly int _innerPin;
    private readonly PinValue _brokenLevel;
    private ITimer? _debounceTimer;
    private IReadingSink? _sink;
    private DoorTotals? _totals;
    private DateTimeOffset _settledUntil = DateTimeOffset.MinValue;
    private readonly IEdgeEventHealth? _edges;

    public DoorCounterReader(SensorOptions options, GpioController gpio, AgentStateStore state, SensorHealth health, TimeProvider clock, ILogger<DoorCounterReader> logger, IEdgeEventHealth? edges = null)
    {
        _edges = edges;
        _options = options;
        _gpio = gpio;
        _state = state;
        _health = health;
        _clock = clock;
        _logger = logger;
        _outerPin = options.BeamOuterPin ?? throw new ArgumentException($"{options.Id}: BeamOuterPin is missing");
        _innerPin = options.BeamInnerPin ?? throw new ArgumentException($"{options.Id}: BeamInnerPin is missing");
        _brokenLevel = options.BrokenLevel == SignalLevel.Low ? PinValue.Low : PinValue.High;
        _detector = new DoorDirectionDetector(SensorTypes.All[SensorTypes.DoorBeams].DebounceOf(options), DoorDirectionDetector.DefaultStuckAfter);
    }

    public string SensorId => _options.Id;

    public string Kind => ReadingKinds.Door;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<DoorCounterReader>(services, options);

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        _totals = new DoorTotals(SensorId, _state);
        _sink = sink;

        // Beam receivers are open-collector outputs that pull the line low when the beam is broken:
        // use the Pi's pull-up for them, a pull-down for beams that drive the line high.
        var mode = _brokenLevel == PinValue.Low ? PinMode.InputPullUp : PinMode.InputPullDown;
        _gpio.OpenPin(_outerPin, mode);
        _gpio.OpenPin(_innerPin, mode);
        try
        {
            using var timer = _clock.CreateTimer(_ => OnDebounceElapsed(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _debounceTimer = timer;
            lock (_gate)
            {
                var now = _clock.GetUtcNow();
                // A beam that is already broken at start (someone in the door) counts from there.
                _detector.OnBeam(Beam.Outer, _gpio.Read(_outerPin) == _brokenLevel, now);
                _detector.OnBeam(Beam.Inner, _gpio.Read(_innerPin) == _brokenLevel, now);
                Emit(_detector.Advance(now + _detector.Debounce));
            }

            _gpio.RegisterCallbackForPinValueChangedEvent(_outerPin, PinEventTypes.Rising | PinEventTypes.Falling, OnOuterEdge);
            _gpio.RegisterCallbackForPinValueChangedEvent(_innerPin, PinEventTypes.Rising | PinEventTypes.Falling, OnInnerEdge);
            _health.ReportOk(SensorId);
            _logger.LogInformation("Door counter {Sensor} listening on GPIO {Outer} (outer) and {Inner} (inner), totals in {In} out {Out}",
                SensorId, _outerPin, _innerPin, _totals.In, _totals.Out);

            // Both beams blocked for long is reported (and nothing is counted for it); the door
            // goes back to ok when they clear.
            using var check = new PeriodicTimer(TimeSpan.FromSeconds(1), _clock);
            var reportedStuck = false;
            // Edges arrive on the driver's thread: between them this loop only waits (progress for the watchdog).
            var heartbeat = LoopHeartbeats.Current;
            while (await heartbeat.AliveWhile(check.WaitForNextTickAsync(cancellationToken)).ConfigureAwait(false))
            {
                // Beam edges no longer arrive: a silent door would read as an empty room.
                if (_edges?.Problem is { } problem)
                {
                    throw new IOException(problem);
                }

                bool stuck;
                lock (_gate)
                {
                    stuck = _detector.IsStuck(_clock.GetUtcNow());
                }

                if (stuck != reportedStuck)
                {
                    reportedStuck = stuck;
                    if (stuck)
                    {
                        _health.ReportError(SensorId, $"both beams blocked for more than {DoorDirectionDetector.DefaultStuckAfter.TotalSeconds:0} s (obstruction, misaligned beam or broken wire)");
                        _logger.LogWarning("Door counter {Sensor}: both beams blocked for more than {Seconds} s", SensorId, DoorDirectionDetector.DefaultStuckAfter.TotalSeconds);
                    }
                    else
                    {
                        _health.ReportOk(SensorId);
                    }
                }
            }
        }
        finally
        {
            _gpio.UnregisterCallbackForPinValueChangedEvent(_outerPin, OnOuterEdge);
            _gpio.UnregisterCallbackForPinValueChangedEvent(_innerPin, OnInnerEdge);
            _gpio.ClosePin(_outerPin);
            _gpio.ClosePin(_innerPin);
            _debounceTimer = null;
        }
    }

    public void Dispose() => _debounceTimer?.Dispose();

    private void OnOuterEdge(object sender, PinValueChangedEventArgs e) => OnEdge(Beam.Outer, e);

    private void OnInnerEdge(object sender, PinValueChangedEventArgs e) => OnEdge(Beam.Inner, e);

    private void OnEdge(Beam beam, PinValueChangedEventArgs e)
    {
        var level = e.ChangeType == PinEventTypes.Rising ? PinValue.High : PinValue.Low;
        lock (_gate)
        {
            // The edge's own time (kernel timestamp), so a late event does not shorten or merge
            // beam breaks; never before what the detector has already settled.
            var at = TimedPinValueChangedEventArgs.TimeOf(e, _clock);
            if (at < _settledUntil)
            {
                at = _settledUntil;
            }

            Emit(_detector.OnBeam(beam, level == _brokenLevel, at));
            _settledUntil = at;
            ArmTimer(_clock.GetUtcNow());
        }
    }

    private void OnDebounceElapsed()
    {
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            Emit(_detector.Advance(now));
            if (now > _settledUntil)
            {
                _settledUntil = now;
            }

            ArmTimer(now);
        }
    }

    private void ArmTimer(DateTimeOffset now)
    {
        if (_detector.NextDue is { } due)
        {
            var wait = due - now;
            _debounceTimer?.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private void Emit(IReadOnlyList<(Crossing Crossing, DateTimeOffset At)> crossings)
    {
        foreach (var (crossing, at) in crossings)
        {
            var reading = _totals!.Count(crossing, at);

            // A full queue loses this reading but not the count: the next reading's totals carry it.
            if (_sink?.TryAdd(reading) != true)
            {
                _logger.LogWarning("Reading queue full: door crossing on {Sensor} kept only in the totals", SensorId);
            }
        }
    }
}
