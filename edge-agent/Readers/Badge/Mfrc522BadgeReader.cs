using System.Device.Gpio;
using System.Security.Cryptography;
using Iot.Device.Mfrc522;
using Iot.Device.Rfid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Badge;

/// <summary>
/// A badge reader: an MFRC522 on SPI (Iot.Device.Bindings) that sees ISO 14443 type A cards
/// (MIFARE Classic, Ultralight, DESFire, most visitor and student cards). Each card held to it
/// becomes one <c>badge</c> reading whose <c>visitor</c> is the HMAC pseudonym of its UID with the
/// site key. The UID lives only in this method's buffer, is wiped after hashing and is never
/// logged, stored or published. A card is halted after its read, so a card left on the reader is
/// one check-in; the same card again within <see cref="SensorOptions.RepeatSuppression"/> too.
/// </summary>
public sealed class Mfrc522BadgeReader(
    SensorOptions options,
    IOptions<AgentOptions> agent,
    ISpiBus bus,
    GpioController gpio,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Mfrc522BadgeReader> logger) : ISensorReader
{
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
        CheckVersion(reader);
        logger.LogInformation("Badge reader {Sensor} (MFRC522 {Version}) on SPI {Bus}.{ChipSelect}", SensorId, reader.Version, options.SpiBus, options.ChipSelect);
        health.ReportOk(SensorId);

        string? lastVisitor = null;
        var lastSeen = DateTimeOffset.MinValue;
        var lastCheck = clock.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (reader.ListenToCardIso14443TypeA(out var card, ListenWindow))
            {
                var now = clock.GetUtcNow();
                var visitor = Pseudonymise(card, pseudonym);
                reader.Halt();
                if (visitor is not null && (visitor != lastVisitor || now - lastSeen > options.RepeatSuppression))
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
                CheckVersion(reader);
                lastCheck = clock.GetUtcNow();
                health.ReportOk(SensorId);
            }

            await Task.Delay(PollInterval, clock, cancellationToken).ConfigureAwait(false);
        }
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

    private static void CheckVersion(MfRc522 reader)
    {
        if (reader.Version.Major == 0)
        {
            throw new IOException("no MFRC522 answers on SPI (version register reads 0x00/0xFF: check wiring and that SPI is enabled)");
        }
    }
}
