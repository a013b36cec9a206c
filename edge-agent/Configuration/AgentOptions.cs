using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Agent.Configuration;

/// <summary>
/// Which GPIO and I2C drivers the agent uses. The production agent has the Pi's only; simulated
/// hardware is the simulation project (<c>dotnet run --project simulation</c>).
/// </summary>
public enum HardwareMode
{
    /// <summary>The same as <see cref="Real"/>; kept so configuration files that say <c>Auto</c> still start.</summary>
    Auto,

    /// <summary>The Raspberry Pi's GPIO (character device) and I2C buses.</summary>
    Real,
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

    public HardwareMode Hardware { get; set; } = HardwareMode.Real;

    /// <summary>Where the agent keeps its state database (sequence numbers, counter totals).</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    [ValidateObjectMembers]
    public BrokerOptions Broker { get; set; } = new();

    [ValidateObjectMembers]
    public PublishingOptions Publishing { get; set; } = new();

    /// <summary>Bounds of the durable outbox (age, bytes); see <see cref="State.OutboxOptions"/>.</summary>
    public State.OutboxOptions Outbox { get; set; } = new();

    public List<SensorOptions> Sensors { get; set; } = [];

    /// <summary>
    /// The site's secret for badge pseudonyms: a badge reading carries base64url(HMAC-SHA256(key,
    /// card UID)) cut to 22 characters. The same key on every agent of a site makes a returning
    /// visitor recognisable; without it nobody can go back from a pseudonym to a card. At least 16
    /// characters; give it through the environment (<c>NTP_Agent__SiteKey</c>), not in a file in git.
    /// </summary>
    public string? SiteKey { get; set; }

    // Boot without RTC (issue 19).

    /// <summary>
    /// With real hardware, readers start only once the kernel's clock is synchronised, waiting at
    /// most this long (then they start and the log says the clock may be wrong). 0 = do not wait.
    /// </summary>
    public TimeSpan ClockSyncTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The GPIO character device the beams and meters are on (<c>/dev/gpiochipN</c>); 0 on every Pi with a current kernel.</summary>
    [Range(0, 15)]
    public int GpioChip { get; set; }

    /// <summary>The GPIO the 1-Wire bus master (<c>dtoverlay=w1-gpio,gpiopin=N</c>) uses.</summary>
    public int OneWirePin { get; set; } = 4;
}

/// <summary>The MQTT broker the agent publishes to.</summary>
public sealed class BrokerOptions
{
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>The device's MQTT user name: its device id (brokers refuse anonymous devices).</summary>
    public string? Username { get; set; }

    /// <summary>The device's MQTT password; give it through the environment (<c>NTP_Agent__Broker__Password</c>), never in a file in git.</summary>
    public string? Password { get; set; }

    /// <summary>Connect over TLS (mqtts, port 8883 by convention): what a Pi on the shared site network should do.</summary>
    public bool UseTls { get; set; }

    /// <summary>
    /// PEM certificate of the authority that signed the broker's certificate (the site's own CA, or
    /// the broker's self-signed certificate); without it the system's trusted roots decide.
    /// </summary>
    public string? CaCertificateFile { get; set; }

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

    // SD-card write budget (issue 19): group commits by rate.

    /// <summary>
    /// The longest a reading waits for others when readings are many: the linger grows from
    /// <see cref="BatchLinger"/> towards this as the rate rises, so a Pi with 10 Hz benches commits
    /// (and fsyncs) about once per this interval instead of five times a second.
    /// </summary>
    public TimeSpan MaxBatchLinger { get; set; } = TimeSpan.FromSeconds(2);
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

    /// <summary>
    /// A beam change or a pulse counts only once it has lasted this long; empty: the type's
    /// default (30 ms for door beams, 20 ms for S0 pulses).
    /// </summary>
    public TimeSpan? Debounce { get; set; }

    // S0 energy meters.

    /// <summary>GPIO (BCM numbering) the meter's S0 output pulls low for each pulse.</summary>
    public int? PulsePin { get; set; }

    /// <summary>Pulses per kWh printed on the meter (<c>imp/kWh</c>), such as 1000 or 10000.</summary>
    public double PulsesPerKwh { get; set; } = 1000;

    /// <summary>With no pulse for this long the power is reported as 0 W.</summary>
    public TimeSpan PowerTimeout { get; set; } = TimeSpan.FromMinutes(5);

    // SPI parts (badge reader).

    public int SpiBus { get; set; }

    public int ChipSelect { get; set; }

    public int SpiClockHz { get; set; } = 1_000_000;

    /// <summary>Optional GPIO wired to the reader's RST pin, for a hardware reset at start.</summary>
    public int? ResetPin { get; set; }

    /// <summary>The same card again within this time is the same check-in (a card left on the reader).</summary>
    public TimeSpan RepeatSuppression { get; set; } = TimeSpan.FromSeconds(5);

    // 1-Wire thermometers.

    /// <summary>The thermometer's id on the 1-Wire bus, as in <c>/sys/bus/w1/devices</c> (<c>28-0000075a1b2c</c>).</summary>
    public string? OneWireId { get; set; }

    // SCD4x CO2 sensors.

    /// <summary>Automatic self-calibration: right for rooms that are aired to outdoor level (about 420 ppm) at least once a week.</summary>
    public bool AutomaticSelfCalibration { get; set; } = true;

    /// <summary>Ambient pressure for the CO2 pressure compensation, in hPa (700–1200); empty: the sensor's default of 1013 hPa.</summary>
    public double? AmbientPressureHpa { get; set; }

    // Time-of-flight door counters (VL53L1X above the door, two zones of its 16×16 SPAD array).

    /// <summary>A zone is occupied while it measures a valid distance below this, in mm from the sensor: between a head and the floor.</summary>
    public int PresenceBelowMm { get; set; } = 1500;

    /// <summary>Width (SPAD columns, along the walking direction) of each zone, 4–16.</summary>
    public int RoiWidth { get; set; } = 8;

    /// <summary>Height (SPAD rows, across the door) of each zone, 4–16.</summary>
    public int RoiHeight { get; set; } = 16;

    /// <summary>SPAD number of the centre of the zone on the door's <c>from</c> side (ST UM2555: 167).</summary>
    public int OuterRoiCentre { get; set; } = 167;

    /// <summary>SPAD number of the centre of the zone on the door's <c>to</c> side (ST UM2555: 231).</summary>
    public int InnerRoiCentre { get; set; } = 231;

    // I2C sensors.

    public int I2cBus { get; set; } = 1;

    public int? Address { get; set; }

    /// <summary>Shunt resistance of a current monitor, in ohms.</summary>
    public double ShuntOhms { get; set; } = 0.1;

    /// <summary>Largest current the current monitor is calibrated for, in amperes.</summary>
    public double MaxCurrentA { get; set; } = 3.2;

    /// <summary>
    /// Time between samples of a polled sensor, or between reports of a pulse meter; empty: the
    /// type's default. Limits per type: DC monitors 10 ms (100 Hz) to 1 s, climate sensors 1 s
    /// (SCD4x 5 s) to 1 h, S0 meters 1 s to 1 h, VL53L1X door counters 20, 33, 50 or
    /// 100 ms (the timing budget per zone).
    /// </summary>
    public TimeSpan? SampleInterval { get; set; }

    /// <summary>
    /// Publish filters between the reader and the publish queue (deadband, throttle, heartbeat);
    /// empty: every reading is published. Climate and DC sensors only: a counter (door, S0 meter,
    /// badge) is never filtered.
    /// </summary>
    public FilterOptions Filters { get; set; } = new();
}

/// <summary>
/// Edge-side publish filters of one sensor, after ESPHome's sensor filters: a deadband
/// (<c>delta</c>), a maximum rate that publishes the mean of what it held back
/// (<c>throttle_average</c>), and a heartbeat so a steady sensor still shows it is alive. Applied
/// in that order: throttle first (means per window), then the deadband on what the throttle gives.
/// </summary>
public sealed class FilterOptions
{
    /// <summary>
    /// Deadband per value field (<c>temperature_c</c>: 0.1): a reading is published only when at
    /// least one field named here differs from the last published reading by more than its delta
    /// (0: by anything at all). Fields not named here ride along and never cause a publication.
    /// </summary>
    public Dictionary<string, double> Delta { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// At most one reading per window of this length, carrying the mean of every reading of the
    /// window per field and the time of the last one. Windows are counted from 0001-01-01 UTC, so one
    /// that divides a day starts on the clock (1 minute: on whole minutes). Longer than the sample
    /// interval, at most 1 hour; empty: every reading goes on.
    /// </summary>
    public TimeSpan? Throttle { get; set; }

    /// <summary>
    /// With a <see cref="Delta"/>, a reading is published anyway when the last published one is
    /// this old, so a steady sensor can be told from a dead one; empty: 5 minutes.
    /// </summary>
    public TimeSpan? Heartbeat { get; set; }

    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan MaxWindow = TimeSpan.FromHours(1);

    /// <summary>Whether any filter is set.</summary>
    public bool Any => Delta.Count > 0 || Throttle is not null || Heartbeat is not null;

    /// <summary>The heartbeat in force: the one given, or the default when a deadband is set.</summary>
    public TimeSpan? HeartbeatInForce => Delta.Count > 0 ? Heartbeat ?? DefaultHeartbeat : null;
}
