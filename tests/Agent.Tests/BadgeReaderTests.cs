using System.Buffers.Text;
using System.Device.Gpio;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.Badge;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>The MFRC522 badge reader (Iot.Device.Bindings over SPI) against the simulated reader IC and card.</summary>
public sealed class BadgeReaderTests
{
    private const string SiteKey = "test-site-key-0123456789";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static string Expected(byte[] uid) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SiteKey), uid))[..22];

    private static (Mfrc522BadgeReader Reader, SimulatedMfrc522 Chip, GpioController Gpio) Setup(TimeSpan? repeat = null) =>
        Setup(repeat, out _);

    private static (Mfrc522BadgeReader Reader, SimulatedMfrc522 Chip, GpioController Gpio) Setup(TimeSpan? repeat, out PollCounter polls)
    {
        var spi = new SimulatedSpiBus();
        var chip = new SimulatedMfrc522();
        polls = spi.Attach(0, 0, new PollCounter(chip));
        var gpio = new GpioController(new SimulatedGpioDriver());
        var options = new SensorOptions { Id = "badge-entrance", Type = SensorTypes.Mfrc522, RepeatSuppression = repeat ?? TimeSpan.FromSeconds(5) };
        var agent = Options.Create(new AgentOptions { Device = "pi-entrance", SiteKey = SiteKey });
        return (new Mfrc522BadgeReader(options, agent, spi, gpio, new SensorHealth(), TimeProvider.System, NullLogger<Mfrc522BadgeReader>.Instance), chip, gpio);
    }

    [Theory]
    [InlineData(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF })]
    [InlineData(new byte[] { 0x04, 0x52, 0x11, 0x9A, 0x3C, 0x5D, 0x80 })]
    public async Task A_card_becomes_one_reading_with_the_hmac_pseudonym_and_never_its_uid(byte[] uid)
    {
        var (reader, chip, gpio) = Setup(null, out var polls);
        using var _ = gpio;
        chip.PresentCard(uid);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(sink, stop.Token));

        var reading = (await sink.WaitForAsync(1, Timeout))[0];
        Assert.Equal(ReadingKinds.Badge, reading.Kind);
        Assert.Equal("badge-entrance", reading.Sensor);
        Assert.Equal(Expected(uid), reading.Visitor);
        Assert.Equal(22, reading.Visitor!.Length);
        Assert.Null(reading.Values);

        // The card stays on the reader: it was halted, so it is not read again.
        var selected = chip.CardsSelected;
        var after = polls.Requests;
        await Eventually.UntilAsync(() => polls.Requests >= after + 3, "the reader polled the field three more times", Timeout);
        Assert.Equal(selected, chip.CardsSelected);
        Assert.Single(sink.Readings);

        // Nothing of the UID is in the published reading.
        var json = System.Text.Json.JsonSerializer.Serialize(reading);
        Assert.DoesNotContain(Convert.ToHexString(uid), json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(uid), json, StringComparison.Ordinal);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Different_cards_are_different_visitors_and_a_returning_card_the_same_one()
    {
        var (reader, chip, gpio) = Setup(repeat: TimeSpan.Zero);
        using var _ = gpio;
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(sink, stop.Token));
        byte[][] cards = [[1, 2, 3, 4], [5, 6, 7, 8], [1, 2, 3, 4]];
        for (var i = 0; i < cards.Length; i++)
        {
            chip.PresentCard(cards[i]);
            await sink.WaitForAsync(i + 1, Timeout);
            chip.RemoveCard();
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
        var visitors = sink.Readings.Select(r => r.Visitor).ToList();
        Assert.NotEqual(visitors[0], visitors[1]);
        Assert.Equal(visitors[0], visitors[2]);
    }

    [Fact]
    public async Task An_unplugged_reader_fails_instead_of_reading_nothing_forever()
    {
        var (reader, chip, gpio) = Setup();
        using var _ = gpio;
        chip.Version = 0x00;
        var error = await Assert.ThrowsAnyAsync<IOException>(() => reader.RunAsync(new RecordingSink(), CancellationToken.None));
        Assert.Contains("MFRC522", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x88)] // Fudan FM17522, on most cheap RC522 modules
    [InlineData(0x12)] // a common counterfeit
    [InlineData(0xB2)]
    [InlineData(0x91)]
    public async Task Clone_modules_with_other_version_bytes_read_cards(int version)
    {
        var (reader, chip, gpio) = Setup();
        using var _ = gpio;
        chip.Version = (byte)version;
        chip.PresentCard([0xDE, 0xAD, 0xBE, 0xEF]);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(sink, stop.Token));

        var reading = (await sink.WaitForAsync(1, Timeout))[0];
        Assert.Equal(Expected([0xDE, 0xAD, 0xBE, 0xEF]), reading.Visitor);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_chip_with_an_unknown_version_byte_is_refused_by_name()
    {
        var (reader, chip, gpio) = Setup();
        using var _ = gpio;
        chip.Version = 0x55;
        var error = await Assert.ThrowsAnyAsync<IOException>(() => reader.RunAsync(new RecordingSink(), CancellationToken.None));
        Assert.Contains("0x55", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Random_uids_are_anonymous_scans_and_never_visitors()
    {
        var (reader, chip, gpio) = Setup(repeat: TimeSpan.Zero);
        using var _ = gpio;
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(sink, stop.Token));
        // A phone taps twice (a new random UID each time, ISO 14443-3: first byte 0x08), then a real card.
        byte[][] taps = [[0x08, 0x11, 0x22, 0x33], [0x08, 0x9A, 0x01, 0x7C], [0x04, 0x52, 0x11, 0x9A, 0x3C, 0x5D, 0x80]];
        for (var i = 0; i < taps.Length; i++)
        {
            chip.PresentCard(taps[i]);
            await sink.WaitForAsync(i + 1, Timeout);
            chip.RemoveCard();
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
        var readings = sink.Readings.ToList();
        Assert.All(readings, r => Assert.Equal(ReadingKinds.Badge, r.Kind));
        Assert.Null(readings[0].Visitor);
        Assert.Null(readings[1].Visitor);
        Assert.Equal(1, readings[0].Values![ReadingKinds.BadgeValues.AnonymousScansTotal]);
        Assert.Equal(2, readings[1].Values![ReadingKinds.BadgeValues.AnonymousScansTotal]);
        Assert.Equal(Expected(taps[2]), readings[2].Visitor);

        // What the collector receives passes the contract.
        var batch = new ReadingsBatch { V = 1, Seq = 1, Sent = DateTimeOffset.UtcNow, Readings = readings };
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(batch, NewTechPark.Edge.Contracts.Serialization.ContractJsonContext.Default.ReadingsBatch);
        var result = new NewTechPark.Edge.Contracts.Validation.ContractValidator(TimeProvider.System).ValidateReadings("ntp/v1/newtechpark/pi-entrance/readings", json);
        Assert.True(result.IsValid, result.Reason);
    }

    [Theory]
    [InlineData(new byte[] { 0x08, 1, 2, 3 }, true)]
    [InlineData(new byte[] { 0x04, 1, 2, 3 }, false)]
    [InlineData(new byte[] { 0x08, 1, 2, 3, 4, 5, 6 }, false)] // a 7-byte UID is fixed and unique
    public void Random_uid_detection_follows_iso_14443_3(byte[] uid, bool random) =>
        Assert.Equal(random, Mfrc522BadgeReader.IsRandomUid(uid));

    [Fact]
    public void The_pseudonym_needs_a_key_of_16_characters()
    {
        Assert.Throws<ArgumentException>(() => new VisitorPseudonym("short"));
        using var pseudonym = new VisitorPseudonym(SiteKey);
        Assert.Equal(Expected([9, 9, 9, 9]), pseudonym.Of([9, 9, 9, 9]));
    }

    /// <summary>
    /// Sits between the SPI bus and the chip and counts the reader's polls (a REQA or WUPA written
    /// to the FIFO), so a test can wait for "the reader looked again" instead of sleeping.
    /// </summary>
    private sealed class PollCounter(SimulatedMfrc522 chip) : SimulatedSpiPart
    {
        private const byte FifoDataWrite = 0x09 << 1;
        private long _requests;

        public long Requests => Interlocked.Read(ref _requests);

        public override void Transfer(ReadOnlySpan<byte> mosi, Span<byte> miso)
        {
            if (mosi.Length >= 2 && mosi[0] == FifoDataWrite && mosi[1] is 0x26 or 0x52)
            {
                Interlocked.Increment(ref _requests);
            }

            chip.Transfer(mosi, miso);
        }
    }
}
