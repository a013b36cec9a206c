using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>Settings of the collector, bound from the <c>Collector</c> section.</summary>
public sealed class CollectorOptions
{
    public const string Section = "Collector";

    /// <summary>The site file; relative paths are taken from the collector's folder.</summary>
    [Required]
    public string SiteFile { get; set; } = "Site/default-site.json";

    /// <summary>Where the SQLite store lives.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    public EmbeddedBrokerOptions Broker { get; set; } = new();

    public IngestOptions Ingest { get; set; } = new();

    public OccupancyOptions Occupancy { get; set; } = new();

    public DemoOptions Demo { get; set; } = new();

    /// <summary>The InfluxDB sink (off by default); see <see cref="Sinks.InfluxOptions"/>.</summary>
    public Sinks.InfluxOptions Influx { get; set; } = new();

    public RetentionOptions Retention { get; set; } = new();

    public VisitorsOptions Visitors { get; set; } = new();

    public EnergyOptions Energy { get; set; } = new();

    public AdminOptions Admin { get; set; } = new();

    public ReportOptions Report { get; set; } = new();

    public HttpOptions Http { get; set; } = new();

    public PlausibilityOptions Plausibility { get; set; } = new();

    public SeriesLimitOptions SeriesLimits { get; set; } = new();
}

/// <summary>The MQTT broker: the embedded one, or an outside one (Mosquitto, EMQX) when <see cref="Embedded"/> is off.</summary>
public sealed class EmbeddedBrokerOptions
{
    /// <summary>Run MQTTnet's broker inside the collector.</summary>
    public bool Embedded { get; set; } = true;

    /// <summary>Broker host the ingest connects to (the embedded broker listens on <see cref="BindAddress"/>).</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(0, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>Address the embedded broker listens on; loopback unless configured otherwise.</summary>
    [Required]
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// Messages the embedded broker queues per client before it drops the oldest (MQTTnet's default
    /// of 1,000 drops silently under load). Drops are logged and counted.
    /// </summary>
    [Range(1000, 100_000_000)]
    public int MaxPendingMessagesPerClient { get; set; } = 1_000_000;

    /// <summary>The collector's own user name on an outside broker (not used by the embedded one).</summary>
    public string? Username { get; set; }

    /// <summary>The collector's own password on an outside broker; give it through the environment, never in a file in git.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Who may connect to the embedded broker: user name (a device id, or a reader) to a salted
    /// <c>$7$</c> hash as <c>mosquitto_passwd</c> or <c>collector --hash-password</c> writes it.
    /// Anonymous connections are always refused.
    /// </summary>
    public Dictionary<string, string> Users { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A Mosquitto-format password file (<c>user:$7$…</c> lines), readable by the service user only.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>Users that may subscribe below <c>ntp/v1/</c> and publish nothing (dashboards, Grafana, probes); every other user is a device.</summary>
    public List<string> Readers { get; set; } = [];

    public TlsListenerOptions Tls { get; set; } = new();
}

/// <summary>The embedded broker's TLS listener (MQTT over TLS, 8883); on when a certificate is configured.</summary>
public sealed class TlsListenerOptions
{
    /// <summary>PEM certificate (with <see cref="KeyFile"/>) or a PKCS#12 (.pfx/.p12) file.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key when <see cref="CertificateFile"/> is PEM; readable by the service user only.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Password of a PKCS#12 file; give it through the environment.</summary>
    public string? CertificatePassword { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 8883;

    /// <summary>Devices on the site network reach the broker here, so it listens on every address unless told otherwise.</summary>
    [Required]
    public string BindAddress { get; set; } = "0.0.0.0";

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificateFile);
}

public sealed class IngestOptions
{
    /// <summary>The collector's MQTT client id; its persistent session holds what arrives while it is away.</summary>
    [Required]
    public string ClientId { get; set; } = "ntp-collector";

    /// <summary>Unacknowledged messages the broker may send at once (MQTT 5 receive maximum).</summary>
    [Range(1, 65535)]
    public int ReceiveMaximum { get; set; } = 2048;

    /// <summary>Messages committed together in one transaction at most.</summary>
    [Range(1, 100_000)]
    public int MaxMessagesPerCommit { get; set; } = 512;

    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromDays(7);
}

public sealed class OccupancyOptions
{
    /// <summary>Local time at which every room is set back to zero (people counts drift over a day).</summary>
    public TimeSpan DailyReset { get; set; } = TimeSpan.FromHours(4);

    /// <summary>Largest jump of a door's in_total/out_total taken as crossings lost in missing readings; a bigger jump starts a new counter segment.</summary>
    [Range(1, 1_000_000)]
    public int MaxDoorGap { get; set; } = 1000;
}

/// <summary>The demo: simulated agents for the whole default site, publishing to the broker over MQTT.</summary>
public sealed class DemoOptions
{
    public bool Enabled { get; set; }

    public int Seed { get; set; } = 2026;

    /// <summary>People arriving per minute on average, besides the school class at the start.</summary>
    [Range(0, 10_000)]
    public double ArrivalsPerMinute { get; set; } = 30;
}
