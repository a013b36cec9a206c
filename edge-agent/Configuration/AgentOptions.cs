using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Agent.Configuration;

/// <summary>Which GPIO and I2C drivers the agent uses.</summary>
public enum HardwareMode
{
    /// <summary>Real drivers when the machine has a GPIO chip (<c>/dev/gpiochip0</c>), else simulated.</summary>
    Auto,

    /// <summary>The Raspberry Pi's GPIO (libgpiod) and I2C buses.</summary>
    Real,

    /// <summary>The simulated GPIO driver and I2C register maps; the reader code is the same.</summary>
    Simulated,
}

/// <summary>Settings of one edge agent, bound from the <c>Agent</c> section.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>Site slug, as in the topic <c>ntp/v1/{site}/{device}/…</c>.</summary>
    [Required]
    public string Site { get; set; } = "newtechpark";

    /// <summary>Device slug; unique within the site.</summary>
    [Required]
    public string Device { get; set; } = string.Empty;

    public HardwareMode Hardware { get; set; } = HardwareMode.Auto;

    /// <summary>Where the agent keeps its state database (sequence numbers, counter totals).</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    public BrokerOptions Broker { get; set; } = new();

    public PublishingOptions Publishing { get; set; } = new();

    public List<SensorOptions> Sensors { get; set; } = [];
}

/// <summary>The MQTT broker the agent publishes to.</summary>
public sealed class BrokerOptions
{
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    public string? Username { get; set; }

    public string? Password { get; set; }

    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the broker keeps the session (and queued messages) while the agent is away.</summary>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromDays(1);

    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>How readings are grouped into batches and how often status is sent.</summary>
public sealed class PublishingOptions
{
    /// <summary>How long the first reading of a batch may wait for others before the batch is sent.</summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(200);

    [Range(1, 1000)]
    public int MaxReadingsPerBatch { get; set; } = 1000;

    /// <summary>Heartbeat period; the contract asks for at least one a minute.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Readings held in memory between the readers and the publisher.</summary>
    [Range(100, 10_000_000)]
    public int QueueCapacity { get; set; } = 100_000;
}

/// <summary>Logic level of a beam input.</summary>
public enum SignalLevel
{
    Low,
    High,
}

/// <summary>One sensor: what it is, where it is wired and in which room it stands.</summary>
public sealed class SensorOptions
{
    /// <summary>Sensor id (slug), unique within the site; a door counter's id is the door id of the site file.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>Driver type: see <see cref="Readers.SensorTypes"/>.</summary>
    public string Type { get; set; } = string.Empty;

    public string? Room { get; set; }

    // Door counters (two break beams).

    /// <summary>GPIO (BCM numbering) of the beam on the <c>from</c> side of the door.</summary>
    public int? BeamOuterPin { get; set; }

    /// <summary>GPIO (BCM numbering) of the beam on the <c>to</c> side of the door.</summary>
    public int? BeamInnerPin { get; set; }

    /// <summary>The level a beam input reads while the beam is interrupted.</summary>
    public SignalLevel BrokenLevel { get; set; } = SignalLevel.Low;

    /// <summary>A beam change counts only once it has lasted this long.</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(30);

    // I2C sensors.

    public int I2cBus { get; set; } = 1;

    public int? Address { get; set; }

    /// <summary>Shunt resistance of a current monitor, in ohms.</summary>
    public double ShuntOhms { get; set; } = 0.1;

    /// <summary>Largest current the current monitor is calibrated for, in amperes.</summary>
    public double MaxCurrentA { get; set; } = 3.2;

    /// <summary>Time between samples of a polled sensor (10 ms to 1 h).</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);
}
