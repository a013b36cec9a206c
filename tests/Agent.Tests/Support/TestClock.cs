namespace NewTechPark.Edge.Agent.Tests.Support;

/// <summary>Where the agent tests' fake clocks start: the morning of the contract's examples.</summary>
public static class TestClock
{
    public static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 15, 0, TimeSpan.Zero);

    public static FakeTimeProvider Create() => new(Start);
}
