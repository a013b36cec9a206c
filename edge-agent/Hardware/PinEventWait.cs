using System.Device.Gpio;

namespace NewTechPark.Edge.Agent.Hardware;

/// <summary>
/// <c>GpioDriver.WaitForEvent</c> for drivers whose edges arrive as callbacks (the kernel's edge
/// reader here, the simulated pins in the simulation): waits for the first edge of the asked kind
/// through a temporary callback, or reports a timeout when <paramref name="cancellationToken"/> ends.
/// </summary>
public static class PinEventWait
{
    public static WaitForEventResult ForFirstEdge(
        int pinNumber,
        PinEventTypes eventTypes,
        CancellationToken cancellationToken,
        Action<int, PinEventTypes, PinChangeEventHandler> addCallback,
        Action<int, PinChangeEventHandler> removeCallback)
    {
        using var done = new ManualResetEventSlim();
        var result = new WaitForEventResult { TimedOut = true };
        void Handler(object sender, PinValueChangedEventArgs e)
        {
            result = new WaitForEventResult { EventTypes = e.ChangeType, TimedOut = false };
            done.Set();
        }

        addCallback(pinNumber, eventTypes, Handler);
        try
        {
            done.Wait(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            removeCallback(pinNumber, Handler);
        }

        return result;
    }
}
