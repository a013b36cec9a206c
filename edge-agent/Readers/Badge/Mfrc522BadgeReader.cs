using System.Device.Gpio;
using System.Security.Cryptography;
using Iot.Device.Mfrc522;
using Iot.Device.Rfid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Agent.Hosting;

namespace NewTechPark.Edge.Agent.Readers.Badge;

/// <summary>
/// A badge reader: an MFRC522 on SPI (Iot.Device.Bindings) that sees ISO 14443 type A cards
/// (MIFARE Classic, Ultralight, DESFire, most visitor and student cards). Each card held to it
/// becomes one <c>badge</c> reading whose <c>visitor</c> is the HMAC pseudonym of its UID with the
/// site key. The UID lives only in this method's buffer, is wiped after hashing and is never
/// logged, stored or published. A card is halted after its read, so a card left on the reader is
/// one check-in; the same card again within <see cref="SensorOptions.RepeatSuppression"/> too.
/// A card or phone with a random UID (ISO 14443-3: a 4-byte UID starting with 0x08, new at every
/// tap) would be a new pseudonym each time and inflate unique visitors: it is published as an
/// anonymous scan instead, a badge reading with no <c>visitor</c> and the persisted count
/// <c>anonymous_scans_total</c>.
/// </summary>
public sealed class Mfrc522BadgeReader(
    SensorOptions options,
    IOptions<AgentOptions> agent,
    ISpiBus bus,
    GpioController gpio,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Mfrc522BadgeReader> logger,
    AgentStateStore? state = null) : ISensorReader
{
    /// <summary>
    /// Version register values of parts that work with the binding: NXP MFRC522 v0.0, v1.0, v2.0
    /// (0x90, 0x91, 0x92), the Fudan FM17522 found on most cheap RC522 modules (0x88, 0x89, 0xB2)
    /// and a common counterfeit (0x12).
    /// </summary>
    public static readonly IReadOnlySet<byte> KnownVersions = new HashSet<byte> { 0x90, 0x91, 0x92, 0x88, 0x89, 0xB2, 0x12 };

    private const byte VersionRegister = 0x37;

    /// <summary>How long one poll listens for a card.</summary>
    public static readonly TimeSpan ListenWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>Pause between polls.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public string SensorId => options.Id;

    public string Kind => ReadingKinds.Badge;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Mfrc522BadgeReader>(services, options);

    public static void Check(SensorOptions sensor, AgentOptions agent, string at, List<string> errors)
    {
        if (string.IsNullOrEmpty(agent.SiteKey))
        {
            errors.Add($"{at}: a badge reader needs Agent:SiteKey (the site's secret for visitor pseudonyms; set NTP_Agent__SiteKey)");
        }
        else if (agent.SiteKey.Length < VisitorPseudonym.MinimumKeyLength)
        {
            errors.Add($"{at}: Agent:SiteKey must have at least {VisitorPseudonym.MinimumKeyLength} characters");
        }

        if (sensor.RepeatSuppression < TimeSpan.Zero || sensor.RepeatSuppression > TimeSpan.FromHours(1))
        {
            errors.Add($"{at}:RepeatSuppression {sensor.RepeatSuppression} must be between 0 and 1 hour");
        }
    }

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        using var pseudonym = new VisitorPseudonym(agent.Value.SiteKey ?? throw new ArgumentException("Agent:SiteKey is missing"));
        using var device = bus.OpenDevice(options.SpiBus, options.ChipSelect, options.SpiClockHz, MfRc522.DefaultSpiMode);
        using var reader = new MfRc522(device, options.ResetPin ?? -1, options.ResetPin is null ? null : gpio, shouldDispose: false);
        var version = CheckVersion(device);
        logger.LogInformation("Badge reader {Sensor} (MFRC522 version 0x{Version:x2}) on SPI {Bus}.{ChipSelect}", SensorId, version, options.SpiBus, options.ChipSelect);
        var anonymous = state?.GetCounter(SensorId, ReadingKinds.BadgeValues.AnonymousScansTotal) ?? 0;
        health.ReportOk(SensorId);

        string? lastVisitor = null;
        var lastSeen = DateTimeOffset.MinValue;
        var lastCheck = clock.GetUtcNow();
        // Listening for a card is bounded work (ListenWindow); the pause between polls is a wait.
        var heartbeat = LoopHeartbeats.Current;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (reader.ListenToCardIso14443TypeA(out var card, ListenWindow))
            {
                var now = clock.GetUtcNow();
                var random = IsRandomUid(card.NfcId);
                var visitor = random ? null : Pseudonymise(card, pseudonym);
                reader.Halt();
                if (random)
                {
                    anonymous++;
                    state?.SetCounter(SensorId, ReadingKinds.BadgeValues.AnonymousScansTotal, anonymous);
                    sink.TryAdd(new Reading
                    {
                        Ts = now,
                        Sensor = SensorId,
                        Kind = ReadingKinds.Badge,
                        Values = new Dictionary<string, double>(1, StringComparer.Ordinal) { [ReadingKinds.BadgeValues.AnonymousScansTotal] = anonymous },
                    });
                    logger.LogDebug("Badge reader {Sensor}: an anonymous scan (random UID)", SensorId);
                }
                else if (visitor is not null && (visitor != lastVisitor || now - lastSeen > options.RepeatSuppression))
                {
                    sink.TryAdd(new Reading { Ts = now, Sensor = SensorId, Kind = ReadingKinds.Badge, Visitor = visitor });
                    logger.LogDebug("Badge reader {Sensor}: a check-in", SensorId);
                }

                if (visitor is not null)
                {
                    lastVisitor = visitor;
                    lastSeen = now;
                }
            }

            // SPI has no ACK: an unplugged reader reads as version 0x00 or 0xFF, so ask now and then.
            if (clock.GetUtcNow() - lastCheck > TimeSpan.FromSeconds(2))
            {
                CheckVersion(device);
                lastCheck = clock.GetUtcNow();
                health.ReportOk(SensorId);
            }

            await heartbeat.AliveWhile(Task.Delay(PollInterval, clock, cancellationToken)).ConfigureAwait(false);
        }

        // Cancelled between polls: end the way every reader ends when stopped.
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>The pseudonym of the card's UID; the UID buffer is wiped before returning.</summary>
    private static string? Pseudonymise(Data106kbpsTypeA card, VisitorPseudonym pseudonym)
    {
        var uid = card.NfcId;
        if (uid is not { Length: 4 or 7 or 10 })
        {
            return null;
        }

        try
        {
            return pseudonym.Of(uid);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(uid);
        }
    }

    /// <summary>
    /// ISO 14443-3: a single-size (4-byte) UID whose first byte is 0x08 is a random ID, drawn anew
    /// at every activation (phones, privacy cards); it identifies nobody and no visit.
    /// </summary>
    public static bool IsRandomUid(ReadOnlySpan<byte> uid) => uid.Length == 4 && uid[0] == 0x08;

    /// <summary>
    /// Reads the version register over SPI (address byte (reg &lt;&lt; 1) | 0x80). The 4.2
    /// binding's <c>Version</c> maps only 0x91/0x92 and reports the clones the BOM buys as 0.0.
    /// </summary>
    public static byte CheckVersion(System.Device.Spi.SpiDevice device)
    {
        Span<byte> mosi = [(byte)(0x80 | (VersionRegister << 1)), 0];
        Span<byte> miso = stackalloc byte[2];
        device.TransferFullDuplex(mosi, miso);
        var version = miso[1];
        if (version is 0x00 or 0xFF)
        {
            throw new IOException($"no MFRC522 answers on SPI (version register reads 0x{version:x2}: check wiring and that SPI is enabled)");
        }

        if (!KnownVersions.Contains(version))
        {
            throw new IOException($"the chip on SPI answers version 0x{version:x2}, not an MFRC522 or a known clone (0x88, 0x89, 0x90, 0x91, 0x92, 0xb2, 0x12)");
        }

        return version;
    }
}
