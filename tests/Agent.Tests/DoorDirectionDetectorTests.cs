using NewTechPark.Edge.Agent.Readers.Door;

namespace NewTechPark.Edge.Agent.Tests;

public sealed class DoorDirectionDetectorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 15, 0, TimeSpan.Zero);
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(20);

    private static DateTimeOffset At(double ms) => T0 + TimeSpan.FromMilliseconds(ms);

    /// <summary>Feeds beam changes at millisecond offsets and collects every crossing the detector returns.</summary>
    private sealed class Door(TimeSpan debounce)
    {
        public DoorDirectionDetector Detector { get; } = new(debounce);

        public List<(Crossing Crossing, DateTimeOffset At)> Crossings { get; } = [];

        public Door Beam(Beam beam, bool blocked, double ms)
        {
            Crossings.AddRange(Detector.OnBeam(beam, blocked, At(ms)));
            return this;
        }

        public Door Block(Beam beam, double ms) => Beam(beam, true, ms);

        public Door Clear(Beam beam, double ms) => Beam(beam, false, ms);

        public Door Advance(double ms)
        {
            Crossings.AddRange(Detector.Advance(At(ms)));
            return this;
        }

        /// <summary>Long after the last change, so that everything pending is committed.</summary>
        public Door Settle() => Advance(1_000_000);
    }

    [Fact]
    public void Walking_in_counts_one_In_at_the_moment_the_outer_beam_clears()
    {
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Block(Beam.Inner, 100)
            .Clear(Beam.Outer, 200)
            .Clear(Beam.Inner, 300)
            .Settle();

        var crossing = Assert.Single(door.Crossings);
        Assert.Equal(Crossing.In, crossing.Crossing);
        Assert.Equal(At(200), crossing.At);
        Assert.False(door.Detector.OuterBlocked);
        Assert.False(door.Detector.InnerBlocked);
    }

    [Fact]
    public void Walking_out_counts_one_Out_at_the_moment_the_inner_beam_clears()
    {
        var door = new Door(Debounce)
            .Block(Beam.Inner, 0)
            .Block(Beam.Outer, 100)
            .Clear(Beam.Inner, 200)
            .Clear(Beam.Outer, 300)
            .Settle();

        var crossing = Assert.Single(door.Crossings);
        Assert.Equal(Crossing.Out, crossing.Crossing);
        Assert.Equal(At(200), crossing.At);
    }

    [Fact]
    public void Breaking_only_the_outer_beam_and_turning_back_counts_nothing()
    {
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Clear(Beam.Outer, 400)
            .Settle();

        Assert.Empty(door.Crossings);
    }

    [Fact]
    public void Turning_back_while_in_both_beams_counts_nothing()
    {
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Block(Beam.Inner, 100)
            .Clear(Beam.Inner, 200)
            .Clear(Beam.Outer, 300)
            .Settle();

        Assert.Empty(door.Crossings);
    }

    [Fact]
    public void Two_people_walking_in_back_to_back_count_two_In()
    {
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Block(Beam.Inner, 100)
            .Clear(Beam.Outer, 200) // first person through: In
            .Block(Beam.Outer, 300) // second person arrives while the first still blocks the inner beam
            .Clear(Beam.Inner, 400) // first person gone
            .Block(Beam.Inner, 500) // second person reaches the inner beam
            .Clear(Beam.Outer, 600) // second person through: In
            .Clear(Beam.Inner, 700)
            .Settle();

        Assert.Equal([(Crossing.In, At(200)), (Crossing.In, At(600))], door.Crossings);
    }

    [Fact]
    public void Two_people_walking_out_back_to_back_count_two_Out()
    {
        var door = new Door(Debounce)
            .Block(Beam.Inner, 0)
            .Block(Beam.Outer, 100)
            .Clear(Beam.Inner, 200) // first person through: Out
            .Block(Beam.Inner, 300) // second person arrives while the first still blocks the outer beam
            .Clear(Beam.Outer, 400)
            .Block(Beam.Outer, 500)
            .Clear(Beam.Inner, 600) // second person through: Out
            .Clear(Beam.Outer, 700)
            .Settle();

        Assert.Equal([(Crossing.Out, At(200)), (Crossing.Out, At(600))], door.Crossings);
    }

    [Fact]
    public void Contact_bounce_on_every_edge_still_counts_exactly_one_In()
    {
        // Every edge bounces: the new level, 1 ms back to the old one, 1 ms later the new level for good.
        var door = new Door(Debounce);
        void Bouncy(Beam beam, bool blocked, double ms) =>
            door.Beam(beam, blocked, ms).Beam(beam, !blocked, ms + 1).Beam(beam, blocked, ms + 2);

        Bouncy(Beam.Outer, true, 0);
        Bouncy(Beam.Inner, true, 100);
        Bouncy(Beam.Outer, false, 200);
        Bouncy(Beam.Inner, false, 300);
        door.Settle();

        var crossing = Assert.Single(door.Crossings);
        Assert.Equal(Crossing.In, crossing.Crossing);
        // The outer beam settled clear at 202 ms, the last edge of its bounce.
        Assert.Equal(At(202), crossing.At);
    }

    [Fact]
    public void A_flicker_shorter_than_the_debounce_on_one_beam_is_ignored()
    {
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Clear(Beam.Outer, 5);

        Assert.Null(door.Detector.NextDue);
        door.Settle();

        Assert.Empty(door.Crossings);
        Assert.False(door.Detector.OuterBlocked);
    }

    [Fact]
    public void A_flicker_on_the_inner_beam_while_walking_in_does_not_change_the_count()
    {
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Block(Beam.Inner, 100)
            .Clear(Beam.Inner, 150) // a bag strap swings out of the inner beam for 5 ms
            .Block(Beam.Inner, 155)
            .Clear(Beam.Outer, 200)
            .Clear(Beam.Inner, 300)
            .Settle();

        Assert.Equal([(Crossing.In, At(200))], door.Crossings);
    }

    [Fact]
    public void With_zero_debounce_OnBeam_returns_the_crossing_immediately()
    {
        var detector = new DoorDirectionDetector(TimeSpan.Zero);

        Assert.Empty(detector.OnBeam(Beam.Outer, true, At(0)));
        Assert.Empty(detector.OnBeam(Beam.Inner, true, At(1)));
        var crossing = Assert.Single(detector.OnBeam(Beam.Outer, false, At(2)));
        Assert.Empty(detector.OnBeam(Beam.Inner, false, At(3)));

        Assert.Equal((Crossing.In, At(2)), crossing);
        Assert.Null(detector.NextDue);
    }

    [Fact]
    public void With_a_debounce_the_crossing_comes_from_Advance_once_the_change_has_been_stable_long_enough()
    {
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Block(Beam.Inner, 100)
            .Clear(Beam.Outer, 200);
        Assert.Empty(door.Crossings);

        door.Advance(219);
        Assert.Empty(door.Crossings);

        door.Advance(220);
        Assert.Equal([(Crossing.In, At(200))], door.Crossings);
    }

    /// <summary>
    /// After a counted crossing the body still stands in the inner beam (01). It steps back and
    /// re-blocks the outer beam (11): per the detector's remarks this is taken to be the next
    /// person walking in, back to back. It then leaves the inner beam first (10), which for that
    /// "next person" is an aborted crossing, and leaves the outer beam (00). So the In stays
    /// counted and no Out is counted, although the body ended up outside again.
    /// </summary>
    [Fact]
    public void Stepping_back_out_after_being_counted_in_is_taken_as_an_aborted_next_person_so_the_In_stands_and_no_Out_is_counted()
    {
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Block(Beam.Inner, 100)
            .Clear(Beam.Outer, 200)   // 01: counted In
            .Block(Beam.Outer, 300)   // 11: re-blocks the first beam = next person walking in
            .Clear(Beam.Inner, 400)   // 10: that "next person" turns back
            .Clear(Beam.Outer, 500)   // 00
            .Settle();

        Assert.Equal([(Crossing.In, At(200))], door.Crossings);
    }

    [Fact]
    public void Both_beams_stuck_blocked_for_a_long_time_then_clearing_inner_first_counts_nothing()
    {
        // Outer and inner go dark in the same millisecond (a cart, a stuck receiver) and stay so.
        var door = new Door(Debounce)
            .Block(Beam.Outer, 0)
            .Block(Beam.Inner, 0);
        for (var ms = 100; ms <= 600_000; ms += 60_000)
        {
            door.Advance(ms);
        }

        door.Clear(Beam.Inner, 600_100)
            .Clear(Beam.Outer, 600_200)
            .Settle();

        // Equal timestamps commit the outer beam first, so it leads; the inner (trailing) beam
        // clearing first is a turn back.
        Assert.Empty(door.Crossings);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_beams_stuck_blocked_produce_at_most_one_crossing_for_the_episode(bool outerFirst)
    {
        var (first, second) = outerFirst ? (Beam.Outer, Beam.Inner) : (Beam.Inner, Beam.Outer);
        var door = new Door(Debounce)
            .Block(first, 0)
            .Block(second, 50);
        for (var ms = 100; ms <= 600_000; ms += 60_000)
        {
            door.Advance(ms);
        }

        door.Clear(Beam.Inner, 600_100)
            .Clear(Beam.Outer, 600_200)
            .Settle();

        // The first blocked beam leads. Clearing inner first completes a crossing only when the
        // inner beam led (a walk out); never more than one crossing for one episode.
        Assert.True(door.Crossings.Count <= 1);
        if (outerFirst)
        {
            Assert.Empty(door.Crossings);
        }
        else
        {
            Assert.Equal([(Crossing.Out, At(600_100))], door.Crossings);
        }
    }

    [Fact]
    public void NextDue_is_null_when_nothing_is_pending()
    {
        var detector = new DoorDirectionDetector(Debounce);
        Assert.Null(detector.NextDue);

        detector.OnBeam(Beam.Outer, true, At(0));
        detector.Advance(At(20));

        Assert.True(detector.OuterBlocked);
        Assert.Null(detector.NextDue);
    }

    [Fact]
    public void NextDue_is_the_oldest_pending_change_plus_the_debounce()
    {
        var detector = new DoorDirectionDetector(Debounce);

        detector.OnBeam(Beam.Outer, true, At(0));
        Assert.Equal(At(20), detector.NextDue);

        detector.OnBeam(Beam.Inner, true, At(5));
        Assert.Equal(At(20), detector.NextDue);

        detector.Advance(At(20));
        Assert.Equal(At(25), detector.NextDue);

        detector.Advance(At(25));
        Assert.Null(detector.NextDue);
    }
}
