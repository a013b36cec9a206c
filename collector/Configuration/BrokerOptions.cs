using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>The MQTT broker: the embedded one, or an outside one (Mosquitto, EMQX) when <see cref="Embedded"/> is off.</summary>
public sealed class EmbeddedBrokerOptions
{
    /// <summary>Run MQTTnet's broker inside the collector.</summary>
    public bool Embedded { get; set; } = true;

    /// <summary>Broker host the ingest connects to (the embedded broker listens on <see cref="BindAddress"/>).</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>MQTT port; 0 lets the embedded broker pick a free one (tests). An outside broker needs 1-65535.</summary>
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
    /// <c>$7$</c> hash as <c>mosquitto_passwd</c> or <c>collector devices hash-password</c> writes it.
    /// Anonymous connections are always refused.
    /// </summary>
    public Dictionary<string, string> Users { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A Mosquitto-format password file (<c>user:$7$…</c> lines), readable by the service user only.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>Users that may subscribe below <c>ntp/v1/</c> and publish nothing (dashboards, Grafana, probes); every other user is a device.</summary>
    public List<string> Readers { get; set; } = [];

    [ValidateObjectMembers]
    public TlsListenerOptions Tls { get; set; } = new();

    [ValidateObjectMembers]
    public BrokerLimitsOptions Limits { get; set; } = new();
}

/// <summary>
/// What one connection may hold of the embedded broker before and after login, enforced on both
/// listeners while bytes arrive (<see cref="Broker.Transport.LimitedServerAdapter"/>).
/// </summary>
public sealed class BrokerLimitsOptions
{
    /// <summary>Whole packet (fixed header included) of the contract's largest message: 256 KiB of payload, its topic and properties.</summary>
    public const int MinPacketBytes = NewTechPark.Edge.Contracts.Validation.ContractLimits.MaxMessageBytes + 1024;

    /// <summary>Open connections (before and after login) on both listeners together; more are closed at once.</summary>
    [Range(1, 100_000)]
    public int MaxConnections { get; set; } = 1024;

    /// <summary>
    /// Open connections from one IP address. A site whose Pis reach the collector through one NAT
    /// address needs at least its number of devices plus a few reconnecting.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxConnectionsPerAddress { get; set; } = 64;

    /// <summary>From accepting the socket to the last byte of the CONNECT packet, TLS handshake included.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest first packet (the CONNECT, with its will and credentials), whole; anything larger is refused as its length arrives.</summary>
    [Range(1024, 65536)]
    public int MaxConnectPacketBytes { get; set; } = 8192;

    /// <summary>Largest packet after login, whole (MQTT 5 clients learn it from the CONNACK); at least the contract's 256 KiB message with its topic.</summary>
    [Range(MinPacketBytes, 16 * 1024 * 1024)]
    public int MaxPacketBytes { get; set; } = NewTechPark.Edge.Contracts.Validation.ContractLimits.MaxMessageBytes + 4096;
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
