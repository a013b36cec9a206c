using System.Device.Gpio;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Agent.Tests;

public sealed class SimulatedGpioDriverTests : IDisposable
{
    private const int Pin = 17;

    private readonly SimulatedGpioDriver _driver = new();
    private readonly GpioController _gpio;
    private readonly List<PinEventTypes> _events = [];

    public SimulatedGpioDriverTests() => _gpio = new GpioController(_driver);

    public void Dispose() => _gpio.Dispose();

    private void Record(object sender, PinValueChangedEventArgs e)
    {
        Assert.Equal(Pin, e.PinNumber);
        _events.Add(e.ChangeType);
    }

    [Fact]
    public void Callbacks_fire_only_when_the_level_changes()
    {
        _driver.SetInput(Pin, PinValue.High);
        _gpio.OpenPin(Pin, PinMode.Input);
        _gpio.RegisterCallbackForPinValueChangedEvent(Pin, PinEventTypes.Rising | PinEventTypes.Falling, Record);

        _driver.SetInput(Pin, PinValue.High); // no change
        _driver.SetInput(Pin, PinValue.Low);
        _driver.SetInput(Pin, PinValue.Low); // no change
        _driver.SetInput(Pin, PinValue.High);

        Assert.Equal([PinEventTypes.Falling, PinEventTypes.Rising], _events);
        Assert.Equal(2, _driver.EdgesDelivered);
    }

    [Fact]
    public void Callbacks_fire_only_for_the_registered_edge_types()
    {
        _gpio.OpenPin(Pin, PinMode.Input);
        var falling = new List<PinEventTypes>();
        _gpio.RegisterCallbackForPinValueChangedEvent(Pin, PinEventTypes.Rising, Record);
        _gpio.RegisterCallbackForPinValueChangedEvent(Pin, PinEventTypes.Falling, (_, e) => falling.Add(e.ChangeType));

        _driver.SetInput(Pin, PinValue.High);
        _driver.SetInput(Pin, PinValue.Low);
        _driver.SetInput(Pin, PinValue.High);

        Assert.Equal([PinEventTypes.Rising, PinEventTypes.Rising], _events);
        Assert.Equal([PinEventTypes.Falling], falling);
    }

    [Fact]
    public void Unregistered_callbacks_no_longer_fire()
    {
        _gpio.OpenPin(Pin, PinMode.Input);
        _gpio.RegisterCallbackForPinValueChangedEvent(Pin, PinEventTypes.Rising | PinEventTypes.Falling, Record);
        _driver.SetInput(Pin, PinValue.High);

        _gpio.UnregisterCallbackForPinValueChangedEvent(Pin, Record);
        _driver.SetInput(Pin, PinValue.Low);

        Assert.Equal([PinEventTypes.Rising], _events);
    }

    [Fact]
    public void Read_returns_the_driven_level()
    {
        _gpio.OpenPin(Pin, PinMode.InputPullUp);

        _driver.SetInput(Pin, PinValue.Low);
        Assert.Equal(PinValue.Low, _gpio.Read(Pin));

        _driver.SetInput(Pin, PinValue.High);
        Assert.Equal(PinValue.High, _gpio.Read(Pin));
    }

    [Fact]
    public void An_undriven_input_reads_its_pull_resistor()
    {
        _gpio.OpenPin(17, PinMode.InputPullUp);
        _gpio.OpenPin(27, PinMode.InputPullDown);
        _gpio.OpenPin(22, PinMode.Input);

        Assert.Equal(PinValue.High, _gpio.Read(17));
        Assert.Equal(PinValue.Low, _gpio.Read(27));
        Assert.Equal(PinValue.Low, _gpio.Read(22));
    }

    [Fact]
    public void Switching_on_the_pull_up_is_not_an_edge_and_a_driven_high_after_it_is_no_change()
    {
        _gpio.OpenPin(Pin, PinMode.InputPullUp);
        _gpio.RegisterCallbackForPinValueChangedEvent(Pin, PinEventTypes.Rising | PinEventTypes.Falling, Record);

        _driver.SetInput(Pin, PinValue.High); // the pull-up already made it high
        Assert.Empty(_events);

        _driver.SetInput(Pin, PinValue.Low);
        Assert.Equal([PinEventTypes.Falling], _events);
    }

    [Fact]
    public void Opening_and_closing_a_pin_is_visible_and_closing_drops_its_callbacks()
    {
        Assert.False(_driver.IsOpen(Pin));
        _gpio.OpenPin(Pin, PinMode.Input);
        Assert.True(_driver.IsOpen(Pin));
        _gpio.RegisterCallbackForPinValueChangedEvent(Pin, PinEventTypes.Rising | PinEventTypes.Falling, Record);

        _gpio.ClosePin(Pin);
        Assert.False(_driver.IsOpen(Pin));

        _gpio.OpenPin(Pin, PinMode.Input);
        _driver.SetInput(Pin, PinValue.High);
        Assert.Empty(_events);
    }

    [Fact]
    public void An_output_pin_reads_back_what_was_written()
    {
        _gpio.OpenPin(Pin, PinMode.Output);

        _gpio.Write(Pin, PinValue.High);
        Assert.Equal(PinValue.High, _gpio.Read(Pin));

        _gpio.Write(Pin, PinValue.Low);
        Assert.Equal(PinValue.Low, _gpio.Read(Pin));
    }

    [Fact]
    public void A_pin_number_outside_the_header_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _driver.SetInput(54, PinValue.High));
    }
}
