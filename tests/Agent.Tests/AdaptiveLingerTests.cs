using NewTechPark.Edge.Agent.Publishing;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>The SD-card budget: commits are grouped by rate, rare readings still leave quickly.</summary>
public sealed class AdaptiveLingerTests
{
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxLinger = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(0.0, 200)] // idle
    [InlineData(0.5, 200)] // a climate sensor and a meter
    [InlineData(5.0, 200)]
    [InlineData(12.5, 1100)] // half-way between 5/s and 20/s
    [InlineData(20.0, 2000)]
    [InlineData(40.0, 2000)] // pi-dc-lab: four benches at 10 Hz
    [InlineData(double.NaN, 200)]
    public void The_linger_follows_the_rate(double rate, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), BatchPublisher.LingerFor(rate, Linger, MaxLinger));

    [Fact]
    public void Four_10_hz_benches_commit_at_most_once_a_second_instead_of_five_times()
    {
        var linger = BatchPublisher.LingerFor(40, Linger, MaxLinger);
        Assert.True(1 / linger.TotalSeconds <= 1, $"{1 / linger.TotalSeconds} commits a second");
        Assert.Equal(5, 1 / Linger.TotalSeconds);
    }

    [Fact]
    public void A_max_linger_below_the_linger_changes_nothing() =>
        Assert.Equal(Linger, BatchPublisher.LingerFor(100, Linger, TimeSpan.FromMilliseconds(50)));
}
