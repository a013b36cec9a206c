namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>The contract tests' "now": 2026-11-28T09:15:05Z, a few seconds after the contract's examples.</summary>
public static class ContractClock
{
    public static readonly DateTimeOffset Now = new(2026, 11, 28, 9, 15, 5, TimeSpan.Zero);

    public static FakeTimeProvider Create() => new(Now);
}
