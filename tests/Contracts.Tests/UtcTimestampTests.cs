using NewTechPark.Edge.Contracts.Serialization;

namespace NewTechPark.Edge.Contracts.Tests;

public sealed class UtcTimestampTests
{
    [Fact]
    public void TryParse_reads_nine_fractional_digits_truncated_to_100_ns()
    {
        Assert.True(UtcTimestamp.TryParse("2026-11-28T09:15:02.123456789Z", out var value));

        var expected = new DateTimeOffset(2026, 11, 28, 9, 15, 2, TimeSpan.Zero).AddTicks(1_234_567);
        Assert.Equal(expected, value);
        Assert.Equal(TimeSpan.Zero, value.Offset);
    }

    [Fact]
    public void TryParse_reads_milliseconds()
    {
        Assert.True(UtcTimestamp.TryParse("2026-11-28T09:15:02.100Z", out var value));

        Assert.Equal(new DateTimeOffset(2026, 11, 28, 9, 15, 2, 100, TimeSpan.Zero), value);
    }

    [Theory]
    [InlineData("2026-11-28T09:15:02Z")]
    [InlineData("2026-11-28T09:15:02.10Z")]
    [InlineData("2026-11-28T09:15:02.100")]
    [InlineData("2026-11-28T09:15:02.100+01:00")]
    [InlineData("2026-11-28 09:15:02.100Z")]
    [InlineData("2026-13-28T09:15:02.100Z")]
    [InlineData("2026-11-28T09:15:02.1234567890Z")]
    [InlineData("2026-11-28T09:15:02.1x0Z")]
    [InlineData("")]
    public void TryParse_refuses(string text) => Assert.False(UtcTimestamp.TryParse(text, out _));

    [Fact]
    public void Format_writes_milliseconds_as_fffZ()
    {
        Assert.Equal("2026-11-28T09:15:02.100Z", UtcTimestamp.Format(new DateTimeOffset(2026, 11, 28, 9, 15, 2, 100, TimeSpan.Zero)));
        Assert.Equal("2026-11-28T09:15:00.000Z", UtcTimestamp.Format(new DateTimeOffset(2026, 11, 28, 9, 15, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Format_converts_to_utc()
    {
        var amsterdam = new DateTimeOffset(2026, 11, 28, 10, 15, 2, 100, TimeSpan.FromHours(1));

        Assert.Equal("2026-11-28T09:15:02.100Z", UtcTimestamp.Format(amsterdam));
    }

    [Fact]
    public void Format_keeps_100_ns_detail_when_there_is_some()
    {
        var value = new DateTimeOffset(2026, 11, 28, 9, 15, 2, TimeSpan.Zero).AddTicks(1_234_567);

        var text = UtcTimestamp.Format(value);

        Assert.Equal("2026-11-28T09:15:02.1234567Z", text);
        Assert.True(UtcTimestamp.TryParse(text, out var back));
        Assert.Equal(value, back);
    }
}
