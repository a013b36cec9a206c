using System.Device.Gpio;

namespace NewTechPark.Edge.Agent.Hardware;

/// <summary>
/// A GPIO edge with the time the kernel saw it. An edge event can reach a reader well after it
/// happened (a busy Pi, a garbage collection, a burst on other lines); debounce and pulse widths
/// must be measured between the edges themselves, not between their arrivals.
/// </summary>
public sealed class TimedPinValueChangedEventArgs(PinEventTypes changeType, int pinNumber, DateTimeOffset edgeTime)
    : PinValueChangedEventArgs(changeType, pinNumber)
{
    /// <summary>When the edge happened (the kernel's timestamp, on the agent's clock).</summary>
    public DateTimeOffset EdgeTime { get; } = edgeTime;

    /// <summary>The edge's own time when the driver gave one, else the arrival time.</summary>
    public static DateTimeOffset TimeOf(PinValueChangedEventArgs e, TimeProvider clock) =>
        e is TimedPinValueChangedEventArgs timed ? timed.EdgeTime : clock.GetUtcNow();
}
