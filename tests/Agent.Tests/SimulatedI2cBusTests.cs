using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Agent.Tests;

public sealed class SimulatedI2cBusTests
{
    private const byte ConfigurationRegister = 0x00;
    private const byte CalibrationRegister = 0x05;

    private static ushort ReadRegister(System.Device.I2c.I2cDevice device, byte register)
    {
        Span<byte> value = stackalloc byte[2];
        device.WriteRead([register], value);
        return (ushort)((value[0] << 8) | value[1]);
    }

    [Fact]
    public void An_address_without_a_part_opens_but_every_transfer_fails_with_no_ACK()
    {
        var bus = new SimulatedI2cBus();
        using var device = bus.OpenDevice(1, 0x40);

        var write = Assert.Throws<IOException>(() => device.Write([ConfigurationRegister]));
        var read = Assert.Throws<IOException>(() => device.ReadByte());

        Assert.Equal("no ACK at 0x40 on I2C bus 1", write.Message);
        Assert.Contains("no ACK", read.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_part_answers_at_its_address_and_bus_only()
    {
        var bus = new SimulatedI2cBus();
        bus.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        using var right = bus.OpenDevice(1, 0x40);
        using var otherAddress = bus.OpenDevice(1, 0x41);
        using var otherBus = bus.OpenDevice(0, 0x40);

        Assert.Equal(SimulatedIna219.DefaultConfiguration, ReadRegister(right, ConfigurationRegister));
        Assert.Throws<IOException>(() => ReadRegister(otherAddress, ConfigurationRegister));
        Assert.Throws<IOException>(() => ReadRegister(otherBus, ConfigurationRegister));
    }

    [Fact]
    public void A_detached_part_stops_answering_and_answers_again_after_reattaching()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        using var device = bus.OpenDevice(1, 0x40);
        device.Write([CalibrationRegister, 0x10, 0x62]);
        Assert.Equal(0x1062, ReadRegister(device, CalibrationRegister));

        bus.Detach(1, 0x40);
        var error = Assert.Throws<IOException>(() => ReadRegister(device, CalibrationRegister));
        Assert.Contains("no ACK", error.Message, StringComparison.Ordinal);

        bus.Attach(1, 0x40, part);
        // The same handle talks to the part again, which kept its registers (it was not powered off).
        Assert.Equal(0x1062, ReadRegister(device, CalibrationRegister));
    }

    [Fact]
    public void Two_parts_at_one_address_are_refused()
    {
        var bus = new SimulatedI2cBus();
        bus.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));

        var error = Assert.Throws<InvalidOperationException>(() => bus.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1)));
        Assert.Contains("0x40", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_simulated_INA219_reset_bit_clears_the_calibration()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        using var device = bus.OpenDevice(1, 0x40);
        device.Write([CalibrationRegister, 0x10, 0x63]);
        Assert.Equal(0x1062, part.Calibration); // bit 0 is not used by the chip

        device.Write([ConfigurationRegister, 0x80, 0x00]);

        Assert.Equal(0, part.Calibration);
        Assert.Equal(SimulatedIna219.DefaultConfiguration, ReadRegister(device, ConfigurationRegister));
    }
}
