using System.Buffers.Binary;
using System.Device.Gpio;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.Door;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Agent.Tests.Support;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>
/// The GPIO character-device driver's layout against include/uapi/linux/gpio.h (no Pi here: the
/// kernel side is checked by the struct sizes, ioctl numbers and flags it must match), and what a
/// dead edge event loop does to the readers' health.
/// </summary>
public sealed class GpioCdevDriverTests
{
    [Fact]
    public void Ioctl_numbers_are_the_kernels()
    {
        Assert.Equal((nuint)0xC250B407, GpioCdevDriver.GetLineIoctl); // GPIO_V2_GET_LINE_IOCTL, 592-byte request
        Assert.Equal((nuint)0xC110B40D, GpioCdevDriver.SetConfigIoctl); // GPIO_V2_LINE_SET_CONFIG_IOCTL, 272-byte config
        Assert.Equal((nuint)0xC010B40E, GpioCdevDriver.GetValuesIoctl);
        Assert.Equal((nuint)0xC010B40F, GpioCdevDriver.SetValuesIoctl);
    }

    [Theory]
    [InlineData(PinMode.InputPullUp, PinEventTypes.Rising | PinEventTypes.Falling, 0x4UL | 0x100 | 0x10 | 0x20)]
    [InlineData(PinMode.InputPullUp, PinEventTypes.None, 0x4UL | 0x100)]
    [InlineData(PinMode.InputPullDown, PinEventTypes.Falling, 0x4UL | 0x200 | 0x20)]
    [InlineData(PinMode.Input, PinEventTypes.Rising, 0x4UL | 0x400 | 0x10)]
    [InlineData(PinMode.Output, PinEventTypes.Rising, 0x8UL)]
    public void Edges_never_drop_the_bias(PinMode mode, PinEventTypes edges, ulong flags) =>
        Assert.Equal(flags, GpioCdevDriver.FlagsFor(mode, edges));

    [Fact]
    public void A_line_request_has_the_kernels_layout()
    {
        var request = GpioCdevDriver.LineRequest(22, 0x1234, "ntp-edge-agent");
        Assert.Equal(592, request.Length);
        Assert.Equal(22u, BinaryPrimitives.ReadUInt32LittleEndian(request)); // offsets[0]
        Assert.Equal("ntp-edge-agent"u8.ToArray(), request.AsSpan(256, 14).ToArray()); // consumer[32]
        Assert.Equal(0x1234UL, BinaryPrimitives.ReadUInt64LittleEndian(request.AsSpan(288))); // config.flags
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(560))); // num_lines
        Assert.Equal(64u, BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(564))); // event_buffer_size
    }

    [Fact]
    public void An_event_gives_its_kernel_time_edge_and_line()
    {
        var raw = new byte[GpioCdevDriver.LineEventSize];
        BinaryPrimitives.WriteUInt64LittleEndian(raw, 5_000_000_000); // timestamp_ns
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(8), 2); // GPIO_V2_LINE_EVENT_FALLING_EDGE
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(12), 22); // offset
        Assert.Equal((5_000_000_000UL, PinEventTypes.Falling, 22), GpioCdevDriver.ParseEvent(raw));

        // Read 30 ms after it happened: stamped 30 ms before now.
        var now = TestClock.Start;
        Assert.Equal(now - TimeSpan.FromMilliseconds(30), GpioCdevDriver.EdgeTime(5_000_000_000, 5_030_000_000, now));
    }

    [Fact]
    public void A_machine_without_the_chip_gets_a_named_refusal()
    {
        var error = Assert.Throws<IOException>(() => new GpioCdevDriver(97, NullLogger.Instance));
        Assert.Contains("/dev/gpiochip97", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_door_whose_edge_events_stopped_reports_it_instead_of_an_empty_room()
    {
        using var temp = new TempDirectory();
        var driver = new SimulatedGpioDriver();
        using var gpio = new GpioController(driver);
        using var state = new AgentStateStore(temp.File("agent.db"), TimeProvider.System);
        var health = new SensorHealth();
        var options = new SensorOptions { Id = "door-dc-lab", Type = SensorTypes.DoorBeams, BeamOuterPin = 17, BeamInnerPin = 27 };
        using var reader = new DoorCounterReader(options, gpio, state, health, TimeProvider.System, NullLogger<DoorCounterReader>.Instance, driver);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(new RecordingSink(), stop.Token));
        await Eventually.UntilAsync(() => health.Get("door-dc-lab") == SensorHealth.Ok, "the door listens");

        driver.Problem = "GPIO edge events stopped: test";
        var error = await Assert.ThrowsAsync<IOException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("edge events stopped", error.Message, StringComparison.Ordinal);
    }
}
