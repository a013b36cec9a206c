namespace NewTechPark.Edge.Agent.Readers.Dc.Ina226;

/// <summary>Registers of the INA226 (TI datasheet SBOS547, table 7-2). All are 16 bits, big-endian.</summary>
public enum Ina226Register : byte
{
    Configuration = 0x00,
    ShuntVoltage = 0x01,
    BusVoltage = 0x02,
    Power = 0x03,
    Current = 0x04,
    Calibration = 0x05,
    MaskEnable = 0x06,
    AlertLimit = 0x07,
    ManufacturerId = 0xFE,
    DieId = 0xFF,
}

/// <summary>Samples averaged per result (configuration bits 11-9).</summary>
public enum Ina226Averaging : ushort
{
    Samples1 = 0b000,
    Samples4 = 0b001,
    Samples16 = 0b010,
    Samples64 = 0b011,
    Samples128 = 0b100,
    Samples256 = 0b101,
    Samples512 = 0b110,
    Samples1024 = 0b111,
}

/// <summary>ADC conversion time of the bus and the shunt voltage (configuration bits 8-6 and 5-3).</summary>
public enum Ina226ConversionTime : ushort
{
    Us140 = 0b000,
    Us204 = 0b001,
    Us332 = 0b010,
    Us588 = 0b011,
    Us1100 = 0b100,
    Us2116 = 0b101,
    Us4156 = 0b110,
    Us8244 = 0b111,
}

/// <summary>Operating mode (configuration bits 2-0).</summary>
public enum Ina226OperatingMode : ushort
{
    PowerDown = 0b000,
    ShuntTriggered = 0b001,
    BusTriggered = 0b010,
    ShuntAndBusTriggered = 0b011,
    ShuntContinuous = 0b101,
    BusContinuous = 0b110,
    ShuntAndBusContinuous = 0b111,
}
