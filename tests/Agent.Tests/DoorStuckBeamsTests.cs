using NewTechPark.Edge.Agent.Readers.Door;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>Both beams stuck: with the door counter's limit, a long episode counts nothing and is flagged.</summary>
public sealed class DoorStuckBeamsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 15, 0, TimeSpan.Zero);
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(20);

    private static DateTimeOffset At(double ms) => T0 + TimeSpan.FromMilliseconds(ms);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_beams_blocked_longer_than_the_limit_count_nothing_whichever_way_they_clear(bool innerClearsFirst)
    {
        var detector = new DoorDirectionDetector(Debounce, DoorDirectionDetector.DefaultStuckAfter);
        var crossings = new List<(Crossing, DateTimeOffset)>();
        crossings.AddRange(detector.OnBeam(Beam.Inner, true, At(0)));
        crossings.AddRange(detector.OnBeam(Beam.Outer, true, At(50)));
        crossings.AddRange(detector.Advance(At(100)));
        Assert.False(detector.IsStuck(At(29_000)));
        Assert.True(detector.IsStuck(At(31_000)));

        var (first, second) = innerClearsFirst ? (Beam.Inner, Beam.Outer) : (Beam.Outer, Beam.Inner);
        crossings.AddRange(detector.OnBeam(first, false, At(600_000)));
        crossings.AddRange(detector.OnBeam(second, false, At(600_100)));
        crossings.AddRange(detector.Advance(At(700_000)));

        Assert.Empty(crossings);
        Assert.False(detector.IsStuck(At(700_000)));
        Assert.Null(detector.BothBlockedSince);
    }

    [Fact]
    public void After_a_stuck_episode_the_next_person_is_counted_normally()
    {
        var detector = new DoorDirectionDetector(Debounce, TimeSpan.FromSeconds(30));
        var crossings = new List<(Crossing Crossing, DateTimeOffset At)>();
        crossings.AddRange(detector.OnBeam(Beam.Outer, true, At(0)));
        crossings.AddRange(detector.OnBeam(Beam.Inner, true, At(10)));
        crossings.AddRange(detector.OnBeam(Beam.Outer, false, At(60_000)));
        crossings.AddRange(detector.OnBeam(Beam.Inner, false, At(60_050)));
        crossings.AddRange(detector.Advance(At(61_000)));
        Assert.Empty(crossings);

        // A normal walk in: outer, inner, outer clears, inner clears.
        crossings.AddRange(detector.OnBeam(Beam.Outer, true, At(70_000)));
        crossings.AddRange(detector.OnBeam(Beam.Inner, true, At(70_140)));
        crossings.AddRange(detector.OnBeam(Beam.Outer, false, At(70_330)));
        crossings.AddRange(detector.OnBeam(Beam.Inner, false, At(70_480)));
        crossings.AddRange(detector.Advance(At(71_000)));
        Assert.Equal([(Crossing.In, At(70_330))], crossings);
    }

    [Fact]
    public void A_person_pausing_in_the_door_for_a_few_seconds_is_still_counted()
    {
        var detector = new DoorDirectionDetector(Debounce, DoorDirectionDetector.DefaultStuckAfter);
        var crossings = new List<(Crossing Crossing, DateTimeOffset At)>();
        crossings.AddRange(detector.OnBeam(Beam.Inner, true, At(0)));
        crossings.AddRange(detector.OnBeam(Beam.Outer, true, At(150)));
        crossings.AddRange(detector.OnBeam(Beam.Inner, false, At(8_000)));
        crossings.AddRange(detector.OnBeam(Beam.Outer, false, At(8_200)));
        crossings.AddRange(detector.Advance(At(9_000)));
        Assert.Equal([(Crossing.Out, At(8_000))], crossings);
    }
}
