using NewTechPark.Edge.Contracts.Resilience;

namespace NewTechPark.Edge.Contracts.Tests.Resilience;

public sealed class BackoffTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void Without_jitter_the_delay_doubles_up_to_the_cap()
    {
        var backoff = new Backoff(Second, TimeSpan.FromSeconds(10), jitter: 0);
        var waits = Enumerable.Range(0, 7).Select(_ => backoff.Next().TotalSeconds).ToArray();
        Assert.Equal([1, 2, 4, 8, 10, 10, 10], waits);
    }

    [Fact]
    public void Reset_starts_again_at_the_first_delay()
    {
        var backoff = new Backoff(Second, TimeSpan.FromSeconds(10), jitter: 0);
        backoff.Next();
        backoff.Next();
        backoff.Reset();
        Assert.Equal(Second, backoff.Current);
        Assert.Equal(Second, backoff.Next());
    }

    [Fact]
    public void Jitter_takes_off_at_most_its_share_and_never_passes_the_cap()
    {
        var backoff = new Backoff(Second, TimeSpan.FromSeconds(30), jitter: 0.5, random: new Random(7));
        var waits = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var current = backoff.Current;
            var wait = backoff.Next();
            Assert.InRange(wait, current / 2, current);
            Assert.True(wait <= backoff.Max);
            waits.Add(wait.TotalMilliseconds);
        }

        // Spread, not lockstep: the capped waits are not all the same.
        Assert.True(waits.Skip(10).Distinct().Count() > 100);
    }

    [Fact]
    public void A_huge_cap_does_not_overflow()
    {
        var backoff = new Backoff(TimeSpan.FromDays(1), TimeSpan.MaxValue, jitter: 0);
        for (var i = 0; i < 100; i++)
        {
            backoff.Next();
        }

        Assert.Equal(TimeSpan.MaxValue, backoff.Current);
    }

    [Theory]
    [InlineData(0, 10, 0.5)]
    [InlineData(-1, 10, 0.5)]
    [InlineData(5, 4, 0.5)]
    [InlineData(1, 10, -0.1)]
    [InlineData(1, 10, 1.1)]
    [InlineData(1, 10, double.NaN)]
    public void Bad_arguments_are_refused(double initialSeconds, double maxSeconds, double jitter)
    {
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.FromSeconds(initialSeconds), TimeSpan.FromSeconds(maxSeconds), jitter: jitter));
    }

    [Fact]
    public async Task WaitAsync_waits_on_the_given_clock()
    {
        var clock = new RecordingTimeProvider();
        var backoff = new Backoff(TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), clock, jitter: 0);
        // A minute on the real clock would time the test out; the recording clock fires at once.
        await backoff.WaitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await backoff.WaitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)], clock.DueTimes);
    }

    [Fact]
    public async Task WaitAsync_stops_when_cancelled()
    {
        var backoff = new Backoff(TimeSpan.FromHours(1), TimeSpan.FromHours(1), jitter: 0);
        using var cancel = new CancellationTokenSource();
        var wait = backoff.WaitAsync(cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    /// <summary>Records each timer's due time and fires it at once.</summary>
    private sealed class RecordingTimeProvider : TimeProvider
    {
        public List<TimeSpan> DueTimes { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (DueTimes)
            {
                DueTimes.Add(dueTime);
            }

            return base.CreateTimer(callback, state, TimeSpan.Zero, period);
        }
    }
}
