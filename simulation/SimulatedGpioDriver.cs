using System.Device.Gpio;
using NewTechPark.Edge.Agent.Hardware;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// A GPIO driver whose input levels are set by a simulation. Edges reach the registered callbacks
/// exactly as the kernel's edge events do on a Pi, so the readers cannot tell the difference: an
/// edge given a time carries it (<see cref="TimedPinValueChangedEventArgs"/>), and with
/// <see cref="HoldEvents"/> edges are queued and arrive later than they happened, as on a busy Pi.
/// </summary>
public sealed class SimulatedGpioDriver : GpioDriver, IEdgeEventHealth
{
    private const int Pins = 54;

    private readonly Lock _gate = new();
    private readonly PinState[] _pins = new PinState[Pins];

    public SimulatedGpioDriver()
    {
        for (var i = 0; i < Pins; i++)
        {
            _pins[i] = new PinState();
        }
    }

    protected override int PinCount => Pins;

    /// <summary>Set to play an edge event loop that died (what the real driver reports); null while it runs.</summary>
    public string? Problem { get; set; }

    /// <summary>Number of edges delivered to callbacks, for checks that none was lost.</summary>
    public long EdgesDelivered => Interlocked.Read(ref _edgesDelivered);

    private long _edgesDelivered;
    private readonly Queue<(int Pin, PinEventTypes Edge, DateTimeOffset? At)> _held = new();
    private bool _hold;

    /// <summary>
    /// While true, edges are queued with their time instead of delivered; <see cref="ReleaseEvents"/>
    /// delivers them in order (arrival later than the edge, as when the event loop was late).
    /// </summary>
    public bool HoldEvents
    {
        get
        {
            lock (_gate)
            {
                return _hold;
            }
        }

        set
        {
            lock (_gate)
            {
                _hold = value;
            }
        }
    }

    /// <summary>Delivers the edges queued while <see cref="HoldEvents"/> was set; returns how many.</summary>
    public int ReleaseEvents()
    {
        var delivered = 0;
        while (true)
        {
            (int Pin, PinEventTypes Edge, DateTimeOffset? At) held;
            lock (_gate)
            {
                if (!_held.TryDequeue(out held))
                {
                    return delivered;
                }
            }

            Deliver(held.Pin, held.Edge, held.At);
            delivered++;
        }
    }

    /// <summary>
    /// Drives an input pin to <paramref name="value"/>, as the outside world would. Fires the
    /// pin's callbacks when the level changes.
    /// </summary>
    /// <param name="pinNumber">The GPIO.</param>
    /// <param name="value">The level the outside world drives.</param>
    /// <param name="at">When the edge happened (the kernel's timestamp); without it readers stamp the arrival.</param>
    public void SetInput(int pinNumber, PinValue value, DateTimeOffset? at = null)
    {
        PinEventTypes edge;
        lock (_gate)
        {
            var pin = Get(pinNumber);
            pin.External = value;
            var level = pin.EffectiveLevel;
            if (level == pin.LastLevel)
            {
                return;
            }

            pin.LastLevel = level;
            edge = level == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling;
            if (_hold)
            {
                _held.Enqueue((pinNumber, edge, at));
                return;
            }
        }

        Deliver(pinNumber, edge, at);
    }

    private void Deliver(int pinNumber, PinEventTypes edge, DateTimeOffset? at)
    {
        PinChangeEventHandler[] handlers;
        lock (_gate)
        {
            handlers = Get(pinNumber).Callbacks.Where(c => (c.Events & edge) != 0).Select(c => c.Handler).ToArray();
        }

        var args = at is { } edgeTime ? new TimedPinValueChangedEventArgs(edge, pinNumber, edgeTime) : new PinValueChangedEventArgs(edge, pinNumber);
        foreach (var handler in handlers)
        {
            handler(this, args);
            Interlocked.Increment(ref _edgesDelivered);
        }
    }

    /// <summary>True when a reader has opened the pin.</summary>
    public bool IsOpen(int pinNumber)
    {
        lock (_gate)
        {
            return Get(pinNumber).Open;
        }
    }

    protected override void OpenPin(int pinNumber)
    {
        lock (_gate)
        {
            Get(pinNumber).Open = true;
        }
    }

    protected override void ClosePin(int pinNumber)
    {
        lock (_gate)
        {
            var pin = Get(pinNumber);
            pin.Open = false;
            pin.Callbacks.Clear();
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        lock (_gate)
        {
            var pin = Get(pinNumber);
            pin.Mode = mode;
            pin.LastLevel = pin.EffectiveLevel;
        }
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        lock (_gate)
        {
            return Get(pinNumber).Mode;
        }
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) =>
        mode is PinMode.Input or PinMode.InputPullUp or PinMode.InputPullDown or PinMode.Output;

    protected override PinValue Read(int pinNumber)
    {
        lock (_gate)
        {
            return Get(pinNumber).EffectiveLevel;
        }
    }

    protected override void Write(int pinNumber, PinValue value)
    {
        lock (_gate)
        {
            Get(pinNumber).Output = value;
        }
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        PinEventWait.ForFirstEdge(pinNumber, eventTypes, cancellationToken, AddCallbackForPinValueChangedEvent, RemoveCallbackForPinValueChangedEvent);

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            Get(pinNumber).Callbacks.Add((eventTypes, callback));
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            Get(pinNumber).Callbacks.RemoveAll(c => c.Handler == callback);
        }
    }

    private PinState Get(int pinNumber) =>
        pinNumber is >= 0 and < Pins ? _pins[pinNumber] : throw new ArgumentOutOfRangeException(nameof(pinNumber), pinNumber, "no such GPIO");

    private sealed class PinState
    {
        public bool Open { get; set; }

        public PinMode Mode { get; set; } = PinMode.Input;

        /// <summary>Level driven from outside; null when nothing drives the pin.</summary>
        public PinValue? External { get; set; }

        public PinValue Output { get; set; } = PinValue.Low;

        public PinValue LastLevel { get; set; } = PinValue.Low;

        public List<(PinEventTypes Events, PinChangeEventHandler Handler)> Callbacks { get; } = [];

        /// <summary>What a read returns: the driven level, else the pull resistor, else the output latch.</summary>
        public PinValue EffectiveLevel => Mode switch
        {
            PinMode.Output => Output,
            _ when External is { } driven => driven,
            PinMode.InputPullUp => PinValue.High,
            _ => PinValue.Low,
        };
    }
}
