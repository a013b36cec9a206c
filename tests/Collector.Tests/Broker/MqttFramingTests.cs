using NewTechPark.Edge.Collector.Broker.Transport;

namespace NewTechPark.Edge.Collector.Tests.Broker;

/// <summary>
/// The broker's size check (issue 14: a 200 MB CONNECT was read whole before login): MQTT's
/// framing followed byte by byte, whatever the reads' sizes, a packet judged when its length is complete.
/// </summary>
public sealed class MqttFramingTests
{
    private const int ConnectLimit = 8192;
    private const int PacketLimit = 266_240;

    /// <summary>A packet of type <paramref name="type"/> with a body of <paramref name="body"/> bytes.</summary>
    private static byte[] Packet(int type, int body) => [.. Header(type, body), .. new byte[body]];

    private static byte[] Header(int type, int remaining) => [(byte)(type << 4), .. MqttWire.RemainingLength(remaining)];

    /// <summary>
    /// Feeds <paramref name="bytes"/> in pieces of <paramref name="chunk"/>; the CONNECT (the first
    /// <paramref name="connectBytes"/>) on its own, as MQTTnet reads nothing more before its CONNACK.
    /// </summary>
    private static MqttFraming Feed(byte[] bytes, int chunk, int connectBytes, bool login = true)
    {
        var framing = new MqttFraming(ConnectLimit, PacketLimit);
        if (FeedRange(framing, bytes.AsSpan(0, connectBytes), chunk))
        {
            framing.LoggedIn = login;
            FeedRange(framing, bytes.AsSpan(connectBytes), chunk);
        }

        return framing;
    }

    private static bool FeedRange(MqttFraming framing, ReadOnlySpan<byte> bytes, int chunk)
    {
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            if (!framing.Follow(bytes.Slice(i, Math.Min(chunk, bytes.Length - i))))
            {
                return false;
            }
        }

        return true;
    }

    public static TheoryData<int> ChunkSizes() => [1, 2, 3, 4, 5, 7, 64, 127, 128, 129, 4096, 100_000];

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public void Without_a_login_the_session_stops_at_its_first_packet_over_the_connect_limit_whatever_the_pieces(int chunk)
    {
        // CONNECT, PUBLISHes with 1, 2 and 3 length bytes, a PINGREQ (length 0), and a large PUBLISH.
        byte[] session = [.. Packet(1, 60), .. Packet(3, 100), .. Packet(3, 200), .. Packet(3, 20_000), .. Header(12, 0), .. Packet(3, 250_000)];

        var framing = Feed(session, chunk, 62, login: false);

        Assert.Equal(FramingProblem.TooLarge, framing.Problem);
        Assert.Equal(3, framing.PacketsCompleted);
        Assert.Equal(20_004, framing.AnnouncedBytes);
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public void After_login_packets_up_to_the_logged_in_limit_pass_whatever_the_pieces(int chunk)
    {
        byte[] session = [.. Packet(1, 60), .. Packet(3, 100), .. Packet(3, 200), .. Packet(3, 20_000), .. Header(12, 0), .. Packet(3, 250_000)];

        var framing = Feed(session, chunk, 62);

        Assert.Equal(FramingProblem.None, framing.Problem);
        Assert.Equal(6, framing.PacketsCompleted);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(127, 1)]
    [InlineData(128, 2)]
    [InlineData(16_383, 2)]
    [InlineData(16_384, 3)]
    [InlineData(2_097_151, 3)]
    [InlineData(2_097_152, 4)]
    [InlineData(268_435_455, 4)]
    public void Lengths_of_one_to_four_bytes_are_read_and_judged_when_complete(int remaining, int lengthBytes)
    {
        Assert.Equal(lengthBytes, MqttWire.RemainingLength(remaining).Length);
        var header = Header(1, remaining);
        var generous = new MqttFraming(int.MaxValue, int.MaxValue);
        Assert.True(generous.Follow(header));
        Assert.Equal(remaining == 0 ? 1 : 0, generous.PacketsCompleted);

        var strict = new MqttFraming(1 + lengthBytes + remaining - 1, int.MaxValue);
        // Every byte but the last length byte passes: the packet is judged on its whole length.
        Assert.True(strict.Follow(header.AsSpan(0, header.Length - 1)));
        Assert.False(strict.Follow(header.AsSpan(header.Length - 1)));
        Assert.Equal(FramingProblem.TooLarge, strict.Problem);
        Assert.Equal(1 + lengthBytes + remaining, strict.AnnouncedBytes);
    }

    [Fact]
    public void A_200_MB_connect_is_refused_on_its_fourth_length_byte()
    {
        var header = Header(1, 200 * 1024 * 1024);
        var framing = new MqttFraming(ConnectLimit, PacketLimit);
        for (var i = 0; i < header.Length - 1; i++)
        {
            Assert.True(framing.Follow(header.AsSpan(i, 1)));
        }

        Assert.False(framing.Follow(header.AsSpan(header.Length - 1, 1)));
        Assert.Equal(FramingProblem.TooLarge, framing.Problem);
        Assert.False(framing.Follow(new byte[100]));
    }

    [Fact]
    public void A_length_running_over_four_bytes_is_malformed()
    {
        var framing = new MqttFraming(int.MaxValue, int.MaxValue);
        Assert.True(framing.Follow([0x10, 0xFF, 0xFF, 0xFF]));
        Assert.False(framing.Follow([0xFF]));
        Assert.Equal(FramingProblem.MalformedLength, framing.Problem);
    }

    [Theory]
    [InlineData(ConnectLimit, true)]
    [InlineData(ConnectLimit + 1, false)]
    public void The_connect_limit_counts_the_whole_packet(int whole, bool passes)
    {
        // 8,192 bytes whole: 1 type byte, 2 length bytes, 8,189 of body.
        var framing = new MqttFraming(ConnectLimit, PacketLimit);
        Assert.Equal(passes, framing.Follow(Packet(1, whole - 3)));
        Assert.Equal(passes ? 1 : 0, framing.PacketsCompleted);
    }

    [Theory]
    [InlineData(PacketLimit, true)]
    [InlineData(PacketLimit + 1, false)]
    public void The_logged_in_limit_counts_the_whole_packet(int whole, bool passes)
    {
        // 266,240 bytes whole: 1 type byte, 3 length bytes, the rest body.
        var framing = new MqttFraming(ConnectLimit, PacketLimit);
        Assert.True(framing.Follow(Packet(1, 50)));
        framing.LoggedIn = true;
        Assert.Equal(passes, framing.Follow(Packet(3, whole - 4)));
        Assert.Equal(passes ? FramingProblem.None : FramingProblem.TooLarge, framing.Problem);
    }

    [Fact]
    public void Until_the_login_succeeded_later_packets_keep_the_connect_limit()
    {
        var framing = new MqttFraming(ConnectLimit, PacketLimit);
        Assert.True(framing.Follow(Packet(1, 50)));
        Assert.False(framing.Follow(Header(3, 20_000)));
        Assert.Equal(FramingProblem.TooLarge, framing.Problem);
    }

    [Fact]
    public void A_first_packet_that_is_not_a_connect_is_refused_at_its_first_byte()
    {
        var framing = new MqttFraming(ConnectLimit, PacketLimit);
        Assert.False(framing.Follow([0x30]));
        Assert.Equal(FramingProblem.NotConnect, framing.Problem);
    }
}

/// <summary>The layer under MQTTnet's reads: a refused packet ends the stream before MQTTnet gets its length.</summary>
public sealed class PacketLimitStreamTests
{
    [Fact]
    public async Task The_length_byte_that_breaks_the_limit_is_never_handed_on_and_the_refusal_is_told_once()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        var refusals = 0;
        var stream = new PacketLimitStream(pipe.Reader.AsStream(), new MqttFraming(8192, 266_240), CancellationToken.None, _ => refusals++);
        // A CONNECT announcing 200 MB: 0x10, then four length bytes, read one at a time as MQTTnet does.
        await pipe.Writer.WriteAsync(new byte[] { 0x10, 0x80, 0x80, 0x80, 0x64 });
        var buffer = new byte[1];

        Assert.Equal(1, await stream.ReadAsync(buffer));
        Assert.Equal(1, await stream.ReadAsync(buffer));
        Assert.Equal(1, await stream.ReadAsync(buffer));
        Assert.Equal(1, await stream.ReadAsync(buffer));
        Assert.Equal(0, await stream.ReadAsync(buffer));
        Assert.Equal(0, await stream.ReadAsync(buffer));
        Assert.Equal(1, refusals);
        Assert.Equal(FramingProblem.TooLarge, stream.Framing.Problem);
        Assert.False(stream.TimedOut);
    }

    [Fact]
    public async Task A_connect_not_complete_by_the_deadline_ends_the_stream_and_later_reads_have_no_deadline()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        var clock = new FakeTimeProvider();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10), clock);
        var refused = new TaskCompletionSource<PacketLimitStream>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = new PacketLimitStream(pipe.Reader.AsStream(), new MqttFraming(8192, 266_240), deadline.Token, s => refused.TrySetResult(s));
        await pipe.Writer.WriteAsync(new byte[] { 0x10, 0x05, 0x00 });
        var buffer = new byte[16];
        Assert.Equal(3, await stream.ReadAsync(buffer));

        var waiting = stream.ReadAsync(buffer).AsTask();
        Assert.False(waiting.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True((await refused.Task.WaitAsync(TimeSpan.FromSeconds(10))).TimedOut);

        // A CONNECT that did arrive in time is not cut off later by the same deadline.
        var pipe2 = new System.IO.Pipelines.Pipe();
        using var deadline2 = new CancellationTokenSource(TimeSpan.FromSeconds(10), clock);
        var calm = new PacketLimitStream(pipe2.Reader.AsStream(), new MqttFraming(8192, 266_240), deadline2.Token, _ => Assert.Fail("refused"));
        await pipe2.Writer.WriteAsync(new byte[] { 0x10, 0x02, 0x00, 0x00 });
        Assert.Equal(4, await calm.ReadAsync(buffer));
        var later = calm.ReadAsync(buffer).AsTask();
        clock.Advance(TimeSpan.FromSeconds(30));
        await pipe2.Writer.WriteAsync(new byte[] { 0xC0, 0x00 });
        Assert.Equal(2, await later.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
